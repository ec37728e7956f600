import ArgumentParser

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.",
        subcommands: [Add.self, List.self, Show.self, Passwd.self, Remove.self, Enable.self, Disable.self,
                      Assign.self, Unassign.self, SetPrefix.self])
}
