import ArgumentParser
import AuthCore
import CWAuthServer

extension UserCommand {
    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable a user.",
            discussion: "An enabled user stays so (\"unchanged\", exit 0). With --json: the user.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand(global) { try UserCommand.setEnabled(username, true, global) }
        }
    }

    /// `enable` and `disable`: a user already so is left as it is, with no write (no audit entry, no reload
    /// in the broker).
    static func setEnabled(_ username: String, _ enabled: Bool, _ global: GlobalOptions) throws {
        let store = try global.openStore()
        let changed = try store.transaction { () throws(StoreError) -> Bool in
            guard try store.requireUser(username).enabled != enabled else { return false }
            try store.setEnabled(username, enabled)
            return true
        }
        let state = enabled ? "enabled" : "disabled"
        try global.report(changed ? "\(state) \(username)" : "\(username) is already \(state): unchanged",
                          json: WriteJSON.after(Representation.user(try store.requireUser(username)), changed: changed))
    }
}
