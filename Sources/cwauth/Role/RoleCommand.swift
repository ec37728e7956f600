import ArgumentParser

struct RoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role", abstract: "Manage roles and their topic permissions.",
        subcommands: [Add.self, List.self, Show.self, Remove.self, Grant.self, Revoke.self])

    /// Listed in this group's help too; the value is the root's (see `CWAuth.global`).
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
}
