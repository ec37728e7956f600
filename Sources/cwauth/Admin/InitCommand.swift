import ArgumentParser
import AuthCore
import CWAuthServer
import Foundation

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create the database (safe to run again).",
        discussion: """
            On an initialized database this changes nothing ("already initialized", exit 0). With --admin the \
            password is asked on the terminal, twice and without echo; when standard input is not a terminal it \
            is the first line of standard input. With --json: {"database": PATH, "user": the admin created or \
            null, "changed": …}.
            """)
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
    @Option(help: ArgumentHelp("Also create this admin for `cwauth serve`, with role \(Self.adminRole): http \(Store.adminScope) readWrite.", valueName: "name"))
    var admin: String?

    static let adminRole = "admin"

    func run() throws {
        try runCommand(global) {
            var password: String?
            if let admin {
                try Validation.validateUsername(admin)
                password = try Self.readPassword(for: admin)
                try Validation.validatePassword(password ?? "")
            }
            let (store, created) = try Store.initialize(path: global.databasePath, actor: global.actor)
            var adminUser: User?
            if let admin, let password {
                try Self.createAdmin(admin, password: password, in: store)
                adminUser = try store.requireUser(admin)
            }
            if global.json {
                return try Output.json(WriteJSON.after([
                    "database": .string(global.databasePath), "user": adminUser.map(Representation.user) ?? .null,
                ], changed: created || adminUser != nil))
            }
            Output.line(created ? "initialized \(global.databasePath)" : "\(global.databasePath) is already initialized")
            if let admin { Output.line("created admin \(admin) (role \(Self.adminRole): http \(Store.adminScope) readWrite)") }
        }
    }

    /// Role and user in one transaction: an existing user name leaves the database as it was.
    static func createAdmin(_ name: String, password: String, in store: Store) throws {
        let hash = PasswordHash.make(password: password).encoded
        try store.transaction { () throws(StoreError) in
            if try store.role(named: adminRole) == nil { try store.addRole(adminRole) }
            try store.grant(adminRole, Permission(resource: Store.adminScope, operation: .readWrite, context: .http))
            try store.addUser(User(username: name, passwordHash: hash, roles: [adminRole], origin: .manual))
        }
    }

    /// Asked on a terminal (twice, no echo); from a script, the first line of stdin.
    static func readPassword(for name: String) throws -> String {
        if TerminalPassword.canAsk { return try TerminalPassword.askNew() }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CLIError("--admin: no password on stdin (e.g. `printf '%s\\n' \"$PW\" | cwauth init --admin \(name)`)")
        }
        return line
    }
}
