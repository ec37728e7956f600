import ArgumentParser
import AuthCore

extension RegistryCommand {
    struct Lock: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close the registration window now.",
            discussion: "A closed window stays closed (\"unchanged\", exit 0). With --json: the registry status, as `registry status` prints it.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let now = Clock.unixNow()
                let changed = try store.transaction { () throws(StoreError) -> Bool in
                    guard try store.registryWindow().isOpen(at: now) else { return false }
                    try store.lockRegistry(now: now)
                    return true
                }
                try global.report(changed ? "registry locked" : "registry already locked: unchanged",
                                  json: WriteJSON.after(try RegistryCommand.statusJSON(store, now: now), changed: changed))
            }
        }
    }
}
