import ArgumentParser

extension UserCommand {
    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a user a role.")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String
        @Argument var role: String

        func run() throws {
            try runCommand(global) {
                try global.openStore().assign(username, role: role)
                Output.line("assigned role \(role) to \(username)")
            }
        }
    }
}
