import ArgumentParser
import AuthCore
import CWAuthServer

extension RegistryCommand {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Is the window open, and for how long.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let now = Clock.unixNow()
                let window = try store.registryWindow()
                let pending = try store.pendingRequests(now: now)
                if global.json { return try Output.json(try RegistryCommand.statusJSON(store, now: now)) }
                if window.isOpen(at: now) {
                    Output.line("open: \(Output.duration(window.secondsLeft(at: now))) left (until \(Output.iso8601(window.openUntil))), \(pending.count) pending")
                } else {
                    Output.line("closed, \(pending.count) pending")
                }
                Output.line("rules: \(RegistryGate.rules)")
            }
        }
    }

    /// The API's registry status, plus the rules text the API does not serve: what `registry status`,
    /// `unlock` and `lock` print with --json.
    static func statusJSON(_ store: Store, now: Int64) throws -> JSONValue {
        Representation.registryStatus(try store.registryWindow(), pending: try store.pendingRequests(now: now), now: now)
            .adding("rules", .string(RegistryGate.rules))
    }
}
