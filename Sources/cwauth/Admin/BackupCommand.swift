import ArgumentParser

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database to FILE, consistently, while the broker and `cwauth serve` keep running.",
        discussion: "FILE is one self-contained SQLite file (no -wal beside it). An existing FILE is kept unless --force is given.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("Where to write the copy.", valueName: "file")) var file: String
    @Flag(help: "Overwrite FILE if it exists.") var force = false

    func run() throws {
        try runCommand(global) {
            let summary = try global.openStore().backup(to: file, force: force)
            Output.line("backed up \(global.databasePath) to \(file) (\(summary.description))")
        }
    }
}
