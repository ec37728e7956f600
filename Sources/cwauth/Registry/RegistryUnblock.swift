import ArgumentParser

extension RegistryCommand {
    struct Unblock: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a username denied with --block register again.")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand(global) {
                try global.openStore().unblock(username)
                Output.line("unblocked \(username)")
            }
        }
    }
}
