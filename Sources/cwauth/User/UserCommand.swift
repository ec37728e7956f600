import ArgumentParser

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.",
        subcommands: [Add.self, List.self, Show.self, Passwd.self, Remove.self, Enable.self, Disable.self,
                      Assign.self, Unassign.self, SetPrefix.self])

    /// Listed in this group's help too; the value is the root's (see `CWAuth.global`).
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
}
