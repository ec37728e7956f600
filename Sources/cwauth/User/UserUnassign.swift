import ArgumentParser
import AuthCore
import CWAuthServer

extension UserCommand {
    struct Unassign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a role from a user (its clients are disconnected).",
            discussion: "A role the user does not have is nothing to take (\"unchanged\", exit 0); an unknown user or role is an error. With --json: the user.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var username: String
        @Argument var role: String

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let changed = try store.transaction { () throws(StoreError) -> Bool in
                    let user = try store.requireUser(username)
                    _ = try store.requireRole(role)
                    guard user.roles.contains(role) else { return false }
                    try store.unassign(username, role: role)
                    return true
                }
                try global.report(changed ? "removed role \(role) from \(username)" : "\(username) does not have role \(role): unchanged",
                                  json: WriteJSON.after(Representation.user(try store.requireUser(username)), changed: changed))
            }
        }
    }
}
