import ArgumentParser
import AuthCore
import CWAuthServer

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database to FILE, consistently, while the broker and `cwauth serve` keep running.",
        discussion: """
            FILE is one self-contained SQLite file (no -wal beside it). An existing FILE is kept unless --force \
            is given. With --json: {"file": FILE, "database": PATH, "users": N, "roles": N, "schemaVersion": N}.
            """)
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
    @Argument(help: ArgumentHelp("Where to write the copy.", valueName: "file")) var file: String
    @Flag(help: "Overwrite FILE if it exists.") var force = false

    func run() throws {
        try runCommand(global) {
            let summary = try global.openStore().backup(to: file, force: force)
            try global.report("backed up \(global.databasePath) to \(file) (\(summary.description))",
                              json: BackupCommand.json(summary, file: file, database: global.databasePath))
        }
    }

    /// What backup and restore copied, for --json.
    static func json(_ summary: BackupSummary, file: String, database: String) -> JSONValue {
        ["file": .string(file), "database": .string(database), "users": .int(Int64(summary.users)),
         "roles": .int(Int64(summary.roles)), "schemaVersion": .int(Int64(summary.schemaVersion))]
    }
}
