import ArgumentParser
import AuthCore

extension RoleCommand {
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a role's permission on a resource, or with --op only reading or writing.",
            discussion: """
                Revoking what the role does not have (no permission on RESOURCE, or --op read when it may only \
                write) changes nothing ("unchanged", exit 0); an unknown role is an error. With --json: the \
                role, the permission on RESOURCE after the revoke (null when none is left), and "changed".
                """)
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var role: String
        @Argument var resource: String
        @Option(help: "read | write | readWrite: take away only this (default: the whole permission)") var op: Operation?
        @Option(help: "mqtt | http") var context: PermissionContext = .mqtt

        /// Why nothing was revoked, or what was.
        enum Outcome {
            case nothingHeld
            case otherHeld(Operation)
            case revoked(Store.RevokeResult)
        }

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let outcome = try store.transaction { () throws(StoreError) -> Outcome in
                    let held = try store.requireRole(role).permissions
                        .first { $0.resource == resource && $0.context == context }?.operation
                    guard let held else { return .nothingHeld }
                    // Only the other half is held: there is none of `op` to take away.
                    if let op, op != .readWrite, held != .readWrite, held != op { return .otherHeld(held) }
                    return .revoked(try store.revoke(role, resource: resource, context: context, operation: op))
                }
                let text: String
                switch outcome {
                case .nothingHeld: text = "role \(role) has no \(context.rawValue) permission on \(resource): unchanged"
                case let .otherHeld(held):
                    text = "role \(role) does not have \(op?.rawValue ?? "") on \(resource) (only \(held.rawValue)): unchanged"
                case .revoked(.removed): text = "revoked \(resource) from role \(role)"
                case let .revoked(.narrowed(to)): text = "revoked \(op?.rawValue ?? "") on \(resource) from role \(role): now \(to.rawValue)"
                }
                var changed = false
                if case .revoked = outcome { changed = true }
                try global.report(text, json: try RoleCommand.permissionJSON(role, resource: resource, context: context,
                                                                               changed: changed, in: store))
            }
        }
    }
}
