import ArgumentParser

extension UserCommand {
    struct Unassign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a role from a user (its clients are disconnected).")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String
        @Argument var role: String

        func run() throws {
            try runCommand(global) {
                try global.openStore().unassign(username, role: role)
                Output.line("removed role \(role) from \(username)")
            }
        }
    }
}
