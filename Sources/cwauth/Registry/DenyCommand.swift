import ArgumentParser
import AuthCore
import CWAuthServer

struct DenyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny", abstract: "Drop a pending request.",
        discussion: """
            Without --block, a username with no pending request is an error. With --block, a username already \
            blocked and with nothing pending stays so ("unchanged", exit 0). With --json: {"removed": NAME \
            (null when nothing was pending), "username": NAME, "blocked": …, "changed": …}.
            """)
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
    @Argument var username: String
    @Flag(help: "Also never record this username again (until `registry unblock`).") var block = false

    func run() throws {
        try runCommand(global) {
            let store = try global.openStore()
            let (dropped, changed) = try store.transaction { () throws(StoreError) -> (Bool, Bool) in
                let pending = try store.pendingRequest(username) != nil
                if block, !pending, try store.blockedUsernames().contains(username) { return (false, false) }
                try store.deny(username, block: block)
                return (pending, true)
            }
            let blocked = try store.blockedUsernames().contains(username)
            let text: String
            switch (dropped, changed, block) {
            case (_, false, _): text = "\(username) is already blocked and nothing is pending: unchanged"
            case (true, _, true): text = "denied \(username) and blocked it"
            case (false, _, true): text = "blocked \(username) (nothing was pending)"
            default: text = "denied \(username)"
            }
            try global.report(text, json: WriteJSON.after([
                "removed": dropped ? .string(username) : .null, "username": .string(username), "blocked": .bool(blocked),
            ], changed: changed))
        }
    }
}
