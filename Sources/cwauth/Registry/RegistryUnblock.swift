import ArgumentParser
import AuthCore
import CWAuthServer

extension RegistryCommand {
    struct Unblock: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a username denied with --block register again.",
            discussion: "A username that is not blocked stays so (\"unchanged\", exit 0). With --json: {\"username\": NAME, \"blocked\": false, \"changed\": …}.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let changed = try store.transaction { () throws(StoreError) -> Bool in
                    guard try store.blockedUsernames().contains(username) else { return false }
                    try store.unblock(username)
                    return true
                }
                try global.report(changed ? "unblocked \(username)" : "\(username) is not blocked: unchanged",
                                  json: WriteJSON.after(["username": .string(username), "blocked": .bool(false)], changed: changed))
            }
        }
    }
}
