import ArgumentParser

extension UserCommand {
    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a user.")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand(global) {
                try global.openStore().setEnabled(username, true)
                Output.line("enabled \(username)")
            }
        }
    }
}
