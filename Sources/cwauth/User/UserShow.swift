import ArgumentParser
import AuthCore
import CWAuthServer

extension UserCommand {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one user and the permissions it holds.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let user = try store.requireUser(username)
                let roles = try user.roles.map { try store.requireRole($0) }
                if global.json {
                    let permissions = roles.map { ($0.name, JSONValue.array($0.permissions.map(Representation.permission))) }
                    return try Output.json(["user": Representation.user(user), "permissions": .object(permissions)])
                }
                Output.line("username:  \(user.username)")
                Output.line("enabled:   \(user.enabled ? "yes" : "no")")
                Output.line("origin:    \(user.origin.rawValue)")
                Output.line("prefix:    \(Output.cell(user.publishPrefix ?? ""))")
                Output.line("created:   \(Output.timestamp(user.createdAt))")
                Output.line("updated:   \(Output.timestamp(user.updatedAt))")
                Output.line("roles:     \(user.roles.isEmpty ? "(none: the user may connect but do nothing)" : user.roles.joined(separator: ", "))")
                for role in roles {
                    for p in role.permissions {
                        Output.line("  \(role.name): \(p.operation.rawValue) \(p.resource) (\(p.context.rawValue))")
                    }
                }
            }
        }
    }
}
