import ArgumentParser

struct RegistryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry", abstract: "The client registry: let unknown devices knock while a window is open.",
        subcommands: [Unlock.self, Lock.self, Status.self, List.self, Unblock.self])

    /// Listed in this group's help too; the value is the root's (see `CWAuth.global`).
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
}
