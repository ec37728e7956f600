import ArgumentParser
import CWAuthServer

extension UserCommand {
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Delete a user (its clients are disconnected).",
            discussion: "A user that does not exist is an error. With --json: {\"removed\": USERNAME, \"changed\": true}.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand(global) {
                try global.openStore().removeUser(username)
                try global.report("removed user \(username)", json: WriteJSON.removed(username))
            }
        }
    }
}
