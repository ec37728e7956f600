import ArgumentParser
import AuthCore

extension Operation: ExpressibleByArgument {}
extension PermissionContext: ExpressibleByArgument {}

struct RoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role", abstract: "Manage roles and their topic permissions.",
        subcommands: [Add.self, List.self, Show.self, Remove.self, Grant.self, Revoke.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a role.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() throws {
            try runCommand {
                try global.openStore().addRole(name)
                Output.line("created role \(name)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List roles.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try runCommand {
                let store = try global.openStore()
                let roles = try store.listRoles()
                if global.json {
                    return try Output.json(try roles.map {
                        RoleJSON(name: $0.name, permissions: $0.permissions.map(PermissionJSON.init),
                                 members: try store.members(ofRole: $0.name))
                    })
                }
                Output.table(["role", "permissions", "members"], try roles.map {
                    [$0.name, String($0.permissions.count), try store.members(ofRole: $0.name).joined(separator: ",")]
                })
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a role's permissions and members.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() throws {
            try runCommand {
                let store = try global.openStore()
                let role = try store.requireRole(name)
                let members = try store.members(ofRole: name)
                if global.json {
                    return try Output.json(RoleJSON(name: role.name, permissions: role.permissions.map(PermissionJSON.init),
                                                    members: members))
                }
                Output.line("role:    \(role.name)")
                Output.line("members: \(members.isEmpty ? "-" : members.joined(separator: ", "))")
                Output.table(["resource", "operation", "context"], role.permissions.map {
                    [$0.resource, $0.operation.rawValue, $0.context.rawValue]
                })
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a role (its members' clients are disconnected).")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() throws {
            try runCommand {
                let store = try global.openStore()
                let members = try store.members(ofRole: name)
                try store.removeRole(name)
                Output.line("removed role \(name)" + (members.isEmpty ? "" : " (held by \(members.joined(separator: ", ")))"))
            }
        }
    }

    struct Grant: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Allow a role to read and/or write topics matching a filter.",
            discussion: "RESOURCE is an MQTT topic filter; '+' and '#' as in MQTT, a whole level %u or %c stands for the username or client id. Granting adds to what the role already has on RESOURCE (read, then write: readWrite); take access away with `role revoke`.")
        @OptionGroup var global: GlobalOptions
        @Argument var role: String
        @Argument var resource: String
        @Option(help: "read | write | readWrite") var op: Operation
        @Option(help: "mqtt | http") var context: PermissionContext = .mqtt

        func run() throws {
            try runCommand {
                switch try global.openStore().grant(role, Permission(resource: resource, operation: op, context: context)) {
                case .added: Output.line("granted \(op.rawValue) on \(resource) to role \(role)")
                case .unchanged: Output.line("role \(role) already has \(op.rawValue) on \(resource): unchanged")
                case let .widened(from, to):
                    Output.line("granted \(op.rawValue) on \(resource) to role \(role): now \(to.rawValue) (was \(from.rawValue))")
                }
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a role's permission on a resource, or with --op only reading or writing.")
        @OptionGroup var global: GlobalOptions
        @Argument var role: String
        @Argument var resource: String
        @Option(help: "read | write | readWrite: take away only this (default: the whole permission)") var op: Operation?
        @Option(help: "mqtt | http") var context: PermissionContext = .mqtt

        func run() throws {
            try runCommand {
                switch try global.openStore().revoke(role, resource: resource, context: context, operation: op) {
                case .removed: Output.line("revoked \(resource) from role \(role)")
                case let .narrowed(to): Output.line("revoked \(op?.rawValue ?? "") on \(resource) from role \(role): now \(to.rawValue)")
                }
            }
        }
    }
}
