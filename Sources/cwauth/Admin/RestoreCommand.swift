import ArgumentParser
import AuthCore
import CWAuthServer

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Copy a backup into the live database, in place; a running broker reloads within a second.",
        discussion: """
            FILE must be a sound cwauth database (integrity check) of a schema this build knows. Its content \
            replaces the database's in one transaction on the same file, so the broker and `cwauth serve` see an \
            ordinary change: users disabled or missing in FILE are disconnected. Replacing the file by hand \
            (mv, cp) is detected by the broker, but this is the supported way. With --json: what `backup` \
            prints, and "changed": true.
            """)
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
    @Argument(help: ArgumentHelp("The backup to restore.", valueName: "file")) var file: String

    func run() throws {
        try runCommand(global) {
            let summary = try global.openStore().restore(from: file)
            try global.report("restored \(file) into \(global.databasePath) (\(summary.description))",
                              json: WriteJSON.after(BackupCommand.json(summary, file: file, database: global.databasePath),
                                                    changed: true))
        }
    }
}
