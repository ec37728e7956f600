import ArgumentParser
import AuthCore
import CWAuthServer

extension RegistryCommand {
    struct Unlock: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open the registration window (it closes by itself).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "How long the window stays open, 1–\(Store.maxWindowMinutes) minutes.") var minutes: Int?
        @Option(help: "The same in seconds (for scripts and tests).") var seconds: Int?

        func run() throws {
            try runCommand(global) {
                if minutes != nil && seconds != nil { throw CLIError("give --minutes or --seconds, not both") }
                if let minutes, !(1...Store.maxWindowMinutes).contains(minutes) {
                    throw CLIError("--minutes must be between 1 and \(Store.maxWindowMinutes)")
                }
                let total = Int64(seconds ?? (minutes ?? Store.defaultWindowMinutes) * 60)
                let store = try global.openStore()
                try store.unlockRegistry(seconds: total)
                let window = try store.registryWindow()
                Output.line("registry unlocked for \(Output.duration(total)) (until \(Output.iso8601(window.openUntil)))")
            }
        }
    }
}
