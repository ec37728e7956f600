import ArgumentParser

extension RoleCommand {
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a role (its members' clients are disconnected).")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let members = try store.members(ofRole: name)
                try store.removeRole(name)
                Output.line("removed role \(name)" + (members.isEmpty ? "" : " (held by \(members.joined(separator: ", ")))"))
            }
        }
    }
}
