import ArgumentParser

struct RegistryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry", abstract: "The client registry: let unknown devices knock while a window is open.",
        subcommands: [Unlock.self, Lock.self, Status.self, List.self, Unblock.self])
}
