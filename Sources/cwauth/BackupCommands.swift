import ArgumentParser
import AuthCore
import Foundation

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database to FILE, consistently, while the broker and `cwauth serve` keep running.",
        discussion: "FILE is one self-contained SQLite file (no -wal beside it). An existing FILE is kept unless --force is given.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Where to write the copy.", valueName: "file")) var file: String
    @Flag(help: "Overwrite FILE if it exists.") var force = false

    func run() throws {
        try runCommand {
            let summary = try global.openStore().backup(to: file, force: force)
            Output.line("backed up \(global.databasePath) to \(file) (\(summary.description))")
        }
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Copy a backup into the live database, in place; a running broker reloads within a second.",
        discussion: """
            FILE must be a sound cwauth database (integrity check) of a schema this build knows. Its content
            replaces the database's in one transaction on the same file, so the broker and `cwauth serve` see an
            ordinary change: users disabled or missing in FILE are disconnected. Replacing the file by hand
            (mv, cp) is detected by the broker, but this is the supported way.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The backup to restore.", valueName: "file")) var file: String

    func run() throws {
        try runCommand {
            let summary = try global.openStore().restore(from: file)
            Output.line("restored \(file) into \(global.databasePath) (\(summary.description))")
        }
    }
}
