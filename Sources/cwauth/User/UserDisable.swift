import ArgumentParser

extension UserCommand {
    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user (its clients are disconnected).",
            discussion: "A disabled user stays so (\"unchanged\", exit 0). With --json: the user.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand(global) { try UserCommand.setEnabled(username, false, global) }
        }
    }
}
