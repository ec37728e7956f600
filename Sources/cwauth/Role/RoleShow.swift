import ArgumentParser
import CWAuthServer

extension RoleCommand {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a role's permissions and members.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var name: String

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let role = try store.requireRole(name)
                let members = try store.members(ofRole: name)
                if global.json { return try Output.json(Representation.role(role).adding("members", .strings(members))) }
                Output.line("role:    \(role.name)")
                Output.line("members: \(Output.list(members))")
                Output.table(["resource", "operation", "context"], role.permissions.map {
                    [$0.resource, $0.operation.rawValue, $0.context.rawValue]
                })
            }
        }
    }
}
