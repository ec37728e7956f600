import ArgumentParser
import AuthCore
import CWAuthServer

extension UserCommand {
    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a user a role.",
            discussion: "A role the user has already is left as it is (\"unchanged\", exit 0); an unknown user or role is an error. With --json: the user.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var username: String
        @Argument var role: String

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let changed = try store.transaction { () throws(StoreError) -> Bool in
                    let user = try store.requireUser(username)
                    _ = try store.requireRole(role)
                    if user.roles.contains(role) { return false }
                    try store.assign(username, role: role)
                    return true
                }
                try global.report(changed ? "assigned role \(role) to \(username)" : "\(username) already has role \(role): unchanged",
                                  json: WriteJSON.after(Representation.user(try store.requireUser(username)), changed: changed))
            }
        }
    }
}
