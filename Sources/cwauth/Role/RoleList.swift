import ArgumentParser
import CWAuthServer

extension RoleCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List roles.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let roles = try store.listRoles()
                if global.json {
                    return try Output.json(.array(try roles.map {
                        Representation.role($0).adding("members", .strings(try store.members(ofRole: $0.name)))
                    }))
                }
                Output.table(["role", "permissions", "members"], try roles.map {
                    [$0.name, String($0.permissions.count), try store.members(ofRole: $0.name).joined(separator: ",")]
                })
            }
        }
    }
}
