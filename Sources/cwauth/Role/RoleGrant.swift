import ArgumentParser
import AuthCore

extension RoleCommand {
    struct Grant: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Allow a role to read and/or write topics matching a filter.",
            discussion: """
                RESOURCE is an MQTT topic filter; '+' and '#' as in MQTT, a whole level %u or %c stands for the \
                username or client id. Granting adds to what the role already has on RESOURCE (read, then write: \
                readWrite); granting what it has changes nothing ("unchanged", exit 0). Take access away with \
                `role revoke`. With --json: the role, the permission on RESOURCE after the grant, and "changed".
                """)
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var role: String
        @Argument var resource: String
        @Option(help: "read | write | readWrite") var op: Operation
        @Option(help: "mqtt | http") var context: PermissionContext = .mqtt

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let result = try store.grant(role, Permission(resource: resource, operation: op, context: context))
                let text: String
                switch result {
                case .added: text = "granted \(op.rawValue) on \(resource) to role \(role)"
                case .unchanged: text = "role \(role) already has \(op.rawValue) on \(resource): unchanged"
                case let .widened(from, to):
                    text = "granted \(op.rawValue) on \(resource) to role \(role): now \(to.rawValue) (was \(from.rawValue))"
                }
                try global.report(text, json: try RoleCommand.permissionJSON(role, resource: resource, context: context,
                                                                               changed: result != .unchanged, in: store))
            }
        }
    }
}
