import ArgumentParser

extension UserCommand {
    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user (its clients are disconnected).")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand(global) {
                try global.openStore().setEnabled(username, false)
                Output.line("disabled \(username)")
            }
        }
    }
}
