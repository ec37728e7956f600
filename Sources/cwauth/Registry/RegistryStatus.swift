import ArgumentParser
import AuthCore
import CWAuthServer

extension RegistryCommand {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Is the window open, and for how long.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let now = Clock.unixNow()
                let window = try store.registryWindow()
                let pending = try store.pendingRequests(now: now)
                if global.json {
                    // The API's status, plus the rules text the API does not serve.
                    return try Output.json(Representation.registryStatus(window, pending: pending, now: now)
                        .adding("rules", .string(RegistryGate.rules)))
                }
                if window.isOpen(at: now) {
                    Output.line("open: \(Output.duration(window.secondsLeft(at: now))) left (until \(Output.iso8601(window.openUntil))), \(pending.count) pending")
                } else {
                    Output.line("closed, \(pending.count) pending")
                }
                Output.line("rules: \(RegistryGate.rules)")
            }
        }
    }
}
