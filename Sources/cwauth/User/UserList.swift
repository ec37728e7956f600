import ArgumentParser
import AuthCore
import CWAuthServer

extension UserCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions

        func run() throws {
            try runCommand(global) {
                let users = try global.openStore().listUsers()
                if global.json { return try Output.json(.array(users.map(Representation.user))) }
                Output.table(["username", "enabled", "roles", "prefix", "origin", "updated"], users.map {
                    [$0.username, $0.enabled ? "yes" : "no", $0.roles.joined(separator: ","), $0.publishPrefix ?? "",
                     $0.origin.rawValue, Output.timestamp($0.updatedAt)]
                })
            }
        }
    }
}
