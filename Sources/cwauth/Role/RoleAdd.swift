import ArgumentParser
import AuthCore
import CWAuthServer

extension RoleCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a role.",
            discussion: "A name that exists already is an error. With --json: the role, as `role show` prints it.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var name: String

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                try store.addRole(name)
                try global.report("created role \(name)", json: WriteJSON.after(try RoleCommand.shown(name, in: store), changed: true))
            }
        }
    }

    /// A role as `role show --json` prints it: the API's Role plus its members.
    static func shown(_ name: String, in store: Store) throws -> JSONValue {
        Representation.role(try store.requireRole(name)).adding("members", .strings(try store.members(ofRole: name)))
    }

    /// What a write on one permission of a role prints with --json: the role, the permission on that
    /// resource afterwards (null when none is left), and whether anything changed.
    static func permissionJSON(_ name: String, resource: String, context: PermissionContext, changed: Bool,
                               in store: Store) throws -> JSONValue {
        let after = try store.requireRole(name).permissions.first { $0.resource == resource && $0.context == context }
        return WriteJSON.after(try shown(name, in: store), changed: changed)
            .adding("permission", after.map(Representation.permission) ?? .null)
    }
}
