import ArgumentParser

extension RegistryCommand {
    struct Lock: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close the registration window now.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try runCommand(global) {
                try global.openStore().lockRegistry()
                Output.line("registry locked")
            }
        }
    }
}
