import ArgumentParser
import AuthCore

extension RoleCommand {
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a role's permission on a resource, or with --op only reading or writing.")
        @OptionGroup var global: GlobalOptions
        @Argument var role: String
        @Argument var resource: String
        @Option(help: "read | write | readWrite: take away only this (default: the whole permission)") var op: Operation?
        @Option(help: "mqtt | http") var context: PermissionContext = .mqtt

        func run() throws {
            try runCommand(global) {
                switch try global.openStore().revoke(role, resource: resource, context: context, operation: op) {
                case .removed: Output.line("revoked \(resource) from role \(role)")
                case let .narrowed(to): Output.line("revoked \(op?.rawValue ?? "") on \(resource) from role \(role): now \(to.rawValue)")
                }
            }
        }
    }
}
