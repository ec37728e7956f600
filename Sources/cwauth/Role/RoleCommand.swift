import ArgumentParser

struct RoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role", abstract: "Manage roles and their topic permissions.",
        subcommands: [Add.self, List.self, Show.self, Remove.self, Grant.self, Revoke.self])
}
