import ArgumentParser
import AuthCore
import CWAuthServer

extension UserCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user.",
            discussion: PasswordOptions.help + " A name that exists already is an error. With --json: the user created.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument(help: "Username: \(Validation.usernameLength.lowerBound)–\(Validation.usernameLength.upperBound) printable characters, no whitespace, '+', '#' or '/'.")
        var username: String
        @OptionGroup var pw: PasswordOptions
        @Option(name: .customLong("role"), help: "Role to assign (repeatable).") var roles: [String] = []
        @Option(help: "Topic prefix prepended to everything the user publishes.") var publishPrefix: String?
        @Flag(help: "Create the user disabled.") var disabled = false

        func run() throws {
            try runCommand(global) {
                try Validation.validateUsername(username)
                // Refused before the password is asked for, not after it was typed twice; the database is
                // closed again while a person types (a Ctrl-C then leaves it exactly as it was).
                do {
                    let store = try global.openStore()
                    if try store.user(named: username) != nil { throw StoreError.alreadyExists(kind: "user", name: username) }
                    for role in roles { _ = try store.requireRole(role) }
                }
                let hash = try pw.resolveHash()
                let store = try global.openStore()
                try store.addUser(User(username: username, passwordHash: hash, enabled: !disabled, roles: roles,
                                       publishPrefix: publishPrefix, origin: .manual))
                try global.report("created user \(username)",
                                  json: WriteJSON.after(Representation.user(try store.requireUser(username)), changed: true))
            }
        }
    }
}
