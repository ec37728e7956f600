import ArgumentParser
import AuthCore

extension RegistryCommand {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Is the window open, and for how long.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try runCommand {
                let store = try global.openStore()
                let window = try store.registryWindow()
                let pending = try store.pendingRequests().count
                if global.json {
                    struct StatusJSON: Encodable {
                        let open: Bool; let openUntil: String?; let secondsLeft: Int64; let pending: Int; let rules: String
                    }
                    return try Output.json(StatusJSON(open: window.isOpen(), openUntil: window.isOpen() ? Output.iso8601(window.openUntil) : nil,
                                                      secondsLeft: window.secondsLeft(), pending: pending, rules: RegistryGate.rules))
                }
                if window.isOpen() {
                    Output.line("open: \(Output.duration(window.secondsLeft())) left (until \(Output.iso8601(window.openUntil))), \(pending) pending")
                } else {
                    Output.line("closed, \(pending) pending")
                }
                Output.line("rules: \(RegistryGate.rules)")
            }
        }
    }
}
