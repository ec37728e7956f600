import ArgumentParser
import AuthCore
import Foundation

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create the database (safe to run again).")
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Also create this admin for `cwauth serve` (password read from stdin), with role \(Self.adminRole): http \(Store.adminScope) readWrite.", valueName: "name"))
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
            Output.line(created ? "initialized \(global.databasePath)" : "\(global.databasePath) is already initialized")
            if let admin, let password { try Self.createAdmin(admin, password: password, in: store) }
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
        Output.line("created admin \(name) (role \(adminRole): http \(Store.adminScope) readWrite)")
    }

    /// First line of stdin; on a terminal, asked for without echo.
    static func readPassword(for name: String) throws -> String {
        if isatty(STDIN_FILENO) != 0, let typed = getpass("password for \(name): ") {
            return String(cString: typed)
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CLIError("--admin: no password on stdin (e.g. `printf '%s\\n' \"$PW\" | cwauth init --admin \(name)`)")
        }
        return line
    }
}
