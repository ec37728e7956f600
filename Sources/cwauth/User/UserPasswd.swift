import ArgumentParser

extension UserCommand {
    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a user's password (its clients are disconnected).")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String
        @OptionGroup var pw: PasswordOptions

        func run() throws {
            try runCommand(global) {
                let hash = try pw.resolveHash()
                try global.openStore().setPassword(username, hash: hash)
                Output.line("password changed for \(username)")
            }
        }
    }
}
