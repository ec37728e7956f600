import ArgumentParser
import AuthCore
import CWAuthServer

extension UserCommand {
    struct SetPrefix: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-prefix",
            abstract: "Set (or with --clear remove) the topic prefix prepended to every publish of the user.",
            discussion: "Setting the prefix the user has, or clearing a prefix it does not have, changes nothing (\"unchanged\", exit 0). With --json: the user.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var username: String
        @Argument(help: "e.g. site1/") var prefix: String?
        @Flag(help: "Remove the prefix.") var clear = false

        func run() throws {
            try runCommand(global) {
                guard (prefix == nil) == clear else { throw CLIError("give a PREFIX or --clear, not both or neither") }
                let store = try global.openStore()
                let changed = try store.transaction { () throws(StoreError) -> Bool in
                    guard try store.requireUser(username).publishPrefix != prefix else { return false }
                    try store.setPublishPrefix(username, prefix)
                    return true
                }
                let text: String
                switch (prefix, changed) {
                case let (prefix?, true): text = "publish prefix of \(username) is now \"\(prefix)\""
                case let (prefix?, false): text = "publish prefix of \(username) is already \"\(prefix)\": unchanged"
                case (nil, true): text = "publish prefix of \(username) removed"
                case (nil, false): text = "\(username) has no publish prefix: unchanged"
                }
                try global.report(text, json: WriteJSON.after(Representation.user(try store.requireUser(username)), changed: changed))
            }
        }
    }
}
