import ArgumentParser

extension UserCommand {
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a user (its clients are disconnected).")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand(global) {
                try global.openStore().removeUser(username)
                Output.line("removed user \(username)")
            }
        }
    }
}
