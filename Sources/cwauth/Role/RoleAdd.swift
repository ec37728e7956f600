import ArgumentParser

extension RoleCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a role.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() throws {
            try runCommand(global) {
                try global.openStore().addRole(name)
                Output.line("created role \(name)")
            }
        }
    }
}
