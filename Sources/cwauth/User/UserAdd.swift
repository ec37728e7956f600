import ArgumentParser
import AuthCore

extension UserCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Username: \(Validation.usernameLength.lowerBound)–\(Validation.usernameLength.upperBound) printable characters, no whitespace, '+', '#' or '/'.")
        var username: String
        @OptionGroup var pw: PasswordOptions
        @Option(name: .customLong("role"), help: "Role to assign (repeatable).") var roles: [String] = []
        @Option(help: "Topic prefix prepended to everything the user publishes.") var publishPrefix: String?
        @Flag(help: "Create the user disabled.") var disabled = false

        func run() throws {
            try runCommand(global) {
                try Validation.validateUsername(username)
                let hash = try pw.resolveHash()
                let store = try global.openStore()
                try store.addUser(User(username: username, passwordHash: hash, enabled: !disabled, roles: roles,
                                       publishPrefix: publishPrefix, origin: .manual))
                Output.line("created user \(username)")
            }
        }
    }
}
