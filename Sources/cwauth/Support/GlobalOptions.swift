import ArgumentParser
import AuthCore
import Foundation

/// Options every command understands. The root command and every leaf declare them as
/// `@OptionGroup(title: GlobalOptions.title)`: ArgumentParser then parses them wherever they stand on the
/// command line, hands the leaf the root's values, and lists them in every help screen under one heading.
struct GlobalOptions: ParsableArguments {
    static let title = "Global Options"

    @Option(name: .long, help: ArgumentHelp("SQLite database file (default: $CWAUTH_DB, else ./cwauth.db).", valueName: "path"))
    var db: String?

    @Flag(name: .long, help: "Print JSON: the API's objects; a change adds \"changed\"; see `cwauth --help`.")
    var json = false

    var databasePath: String {
        if let db, !db.isEmpty { return db }
        if let env = ProcessInfo.processInfo.environment["CWAUTH_DB"], !env.isEmpty { return env }
        return "./cwauth.db"
    }

    /// The audit log names the operator: the sudo caller if any, else the login.
    var actor: String {
        let env = ProcessInfo.processInfo.environment
        let login = getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } }
        let who = env["SUDO_USER"] ?? env["USER"] ?? env["LOGNAME"] ?? login ?? "uid\(getuid())"
        return "cli:\(who)"
    }

    func openStore() throws -> Store {
        try Store(path: databasePath, actor: actor)
    }
}
