import ArgumentParser
import CWAuthServer

extension RoleCommand {
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Delete a role (its members' clients are disconnected).",
            discussion: "A role that does not exist is an error. With --json: {\"removed\": NAME, \"members\": [who held it], \"changed\": true}.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var name: String

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let members = try store.members(ofRole: name)
                try store.removeRole(name)
                try global.report("removed role \(name)" + (members.isEmpty ? "" : " (held by \(members.joined(separator: ", ")))"),
                                  json: WriteJSON.removed(name).adding("members", .strings(members)))
            }
        }
    }
}
