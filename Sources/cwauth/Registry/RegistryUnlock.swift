import ArgumentParser
import AuthCore
import CWAuthServer

extension RegistryCommand {
    struct Unlock: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open the registration window (it closes by itself).",
            discussion: "On an open window this sets the new end. With --json: the registry status, as `registry status` prints it.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
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
                let now = Clock.unixNow()
                try store.unlockRegistry(seconds: total, now: now)
                let window = try store.registryWindow()
                try global.report("registry unlocked for \(Output.duration(total)) (until \(Output.iso8601(window.openUntil)))",
                                  json: WriteJSON.after(try RegistryCommand.statusJSON(store, now: now), changed: true))
            }
        }
    }
}
