import ArgumentParser
import AuthCore

extension RoleCommand {
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
            try runCommand(global) {
                switch try global.openStore().grant(role, Permission(resource: resource, operation: op, context: context)) {
                case .added: Output.line("granted \(op.rawValue) on \(resource) to role \(role)")
                case .unchanged: Output.line("role \(role) already has \(op.rawValue) on \(resource): unchanged")
                case let .widened(from, to):
                    Output.line("granted \(op.rawValue) on \(resource) to role \(role): now \(to.rawValue) (was \(from.rawValue))")
                }
            }
        }
    }
}
