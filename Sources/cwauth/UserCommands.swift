import ArgumentParser
import AuthCore
import Foundation

struct PasswordOptions: ParsableArguments {
    @Option(help: "The password (visible in the process list and shell history: prefer --password-stdin).")
    var password: String?

    @Flag(help: "Read the password from the first line of standard input.")
    var passwordStdin = false

    @Option(help: ArgumentHelp("A ready Mosquitto-format hash ($7$… or $6$…), e.g. from mosquitto_passwd.", valueName: "hash"))
    var passwordHash: String?

    /// The hash to store, made from whichever source was given (exactly one).
    func resolveHash() throws -> String {
        let given = [password != nil, passwordStdin, passwordHash != nil].filter { $0 }.count
        guard given == 1 else { throw CLIError("give exactly one of --password, --password-stdin or --password-hash") }
        if let passwordHash {
            do { return try PasswordHash(parsing: passwordHash).encoded } catch {
                throw CLIError("invalid --password-hash: \(error.description)")
            }
        }
        let clear: String
        if passwordStdin {
            guard let line = readLine(strippingNewline: true) else { throw CLIError("no password on standard input") }
            clear = line
        } else {
            clear = password ?? ""
        }
        try Validation.validatePassword(clear)
        return PasswordHash.make(password: clear).encoded
    }
}

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.",
        subcommands: [Add.self, List.self, Show.self, Passwd.self, Remove.self, Enable.self, Disable.self,
                      Assign.self, Unassign.self, SetPrefix.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Username: 3–256 printable characters, no whitespace, '+', '#' or '/'.") var username: String
        @OptionGroup var pw: PasswordOptions
        @Option(name: .customLong("role"), help: "Role to assign (repeatable).") var roles: [String] = []
        @Option(help: "Topic prefix prepended to everything the user publishes.") var publishPrefix: String?
        @Flag(help: "Create the user disabled.") var disabled = false

        func run() throws {
            try runCommand {
                try Validation.validateUsername(username)
                let hash = try pw.resolveHash()
                let store = try global.openStore()
                try store.addUser(User(username: username, passwordHash: hash, enabled: !disabled, roles: roles,
                                       publishPrefix: publishPrefix, origin: .manual))
                Output.line("created user \(username)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try runCommand {
                let users = try global.openStore().listUsers()
                if global.json { return try Output.json(users.map(UserJSON.init)) }
                Output.table(["username", "enabled", "roles", "prefix", "origin", "updated"], users.map {
                    [$0.username, $0.enabled ? "yes" : "no", $0.roles.joined(separator: ","), $0.publishPrefix ?? "-",
                     $0.origin.rawValue, Output.timestamp($0.updatedAt)]
                })
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one user and the permissions it holds.")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand {
                let store = try global.openStore()
                let user = try store.requireUser(username)
                let roles = try user.roles.map { try store.requireRole($0) }
                if global.json {
                    struct Shown: Encodable { let user: UserJSON; let permissions: [String: [PermissionJSON]] }
                    return try Output.json(Shown(user: UserJSON(user), permissions: Dictionary(uniqueKeysWithValues:
                        roles.map { ($0.name, $0.permissions.map(PermissionJSON.init)) })))
                }
                Output.line("username:  \(user.username)")
                Output.line("enabled:   \(user.enabled ? "yes" : "no")")
                Output.line("origin:    \(user.origin.rawValue)")
                Output.line("prefix:    \(user.publishPrefix ?? "-")")
                Output.line("created:   \(Output.timestamp(user.createdAt))")
                Output.line("updated:   \(Output.timestamp(user.updatedAt))")
                Output.line("roles:     \(user.roles.isEmpty ? "(none: the user may connect but do nothing)" : user.roles.joined(separator: ", "))")
                for role in roles {
                    for p in role.permissions {
                        Output.line("  \(role.name): \(p.operation.rawValue) \(p.resource) (\(p.context.rawValue))")
                    }
                }
            }
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a user's password (its clients are disconnected).")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String
        @OptionGroup var pw: PasswordOptions

        func run() throws {
            try runCommand {
                let hash = try pw.resolveHash()
                try global.openStore().setPassword(username, hash: hash)
                Output.line("password changed for \(username)")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a user (its clients are disconnected).")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand {
                try global.openStore().removeUser(username)
                Output.line("removed user \(username)")
            }
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a user.")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand {
                try global.openStore().setEnabled(username, true)
                Output.line("enabled \(username)")
            }
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user (its clients are disconnected).")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand {
                try global.openStore().setEnabled(username, false)
                Output.line("disabled \(username)")
            }
        }
    }

    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a user a role.")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String
        @Argument var role: String

        func run() throws {
            try runCommand {
                try global.openStore().assign(username, role: role)
                Output.line("assigned role \(role) to \(username)")
            }
        }
    }

    struct Unassign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a role from a user (its clients are disconnected).")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String
        @Argument var role: String

        func run() throws {
            try runCommand {
                try global.openStore().unassign(username, role: role)
                Output.line("removed role \(role) from \(username)")
            }
        }
    }

    struct SetPrefix: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-prefix",
            abstract: "Set (or with --clear remove) the topic prefix prepended to every publish of the user.")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String
        @Argument(help: "e.g. site1/") var prefix: String?
        @Flag(help: "Remove the prefix.") var clear = false

        func run() throws {
            try runCommand {
                guard (prefix == nil) == clear else { throw CLIError("give a PREFIX or --clear, not both or neither") }
                try global.openStore().setPublishPrefix(username, prefix)
                Output.line(prefix.map { "publish prefix of \(username) is now \"\($0)\"" } ?? "publish prefix of \(username) removed")
            }
        }
    }
}
