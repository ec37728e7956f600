import ArgumentParser
import AuthCore
import CWAuthServer

extension UserCommand {
    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a user's password (its clients are disconnected).",
            discussion: PasswordOptions.help + " With --json: the user.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var username: String
        @OptionGroup var pw: PasswordOptions

        func run() throws {
            try runCommand(global) {
                // Before asking for a password for nobody; closed again while a person types.
                do { _ = try global.openStore().requireUser(username) }
                let hash = try pw.resolveHash()
                let store = try global.openStore()
                try store.setPassword(username, hash: hash)
                try global.report("password changed for \(username)",
                                  json: WriteJSON.after(Representation.user(try store.requireUser(username)), changed: true))
            }
        }
    }
}
