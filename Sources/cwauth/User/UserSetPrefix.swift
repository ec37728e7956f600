import ArgumentParser

extension UserCommand {
    struct SetPrefix: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-prefix",
            abstract: "Set (or with --clear remove) the topic prefix prepended to every publish of the user.")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String
        @Argument(help: "e.g. site1/") var prefix: String?
        @Flag(help: "Remove the prefix.") var clear = false

        func run() throws {
            try runCommand(global) {
                guard (prefix == nil) == clear else { throw CLIError("give a PREFIX or --clear, not both or neither") }
                try global.openStore().setPublishPrefix(username, prefix)
                Output.line(prefix.map { "publish prefix of \(username) is now \"\($0)\"" } ?? "publish prefix of \(username) removed")
            }
        }
    }
}
