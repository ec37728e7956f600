import ArgumentParser
import AuthCore
import Foundation

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Make the roles and users in a YAML or JSON file exist exactly as written (all or nothing).",
        discussion: """
            Roles and users not in the file are left alone. Applying the same file twice changes nothing. \
            --dry-run applies the file in a transaction that is rolled back: it prints what applying would do, \
            role by role and user by user, refusals included, and writes nothing. With --json: the names \
            created, updated and unchanged (rolesCreated … usersUnchanged), "changed" (whether the file \
            changes or would change anything) and "dryRun".
            """)
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
    @Argument(help: "File to apply; - reads standard input.") var file: String
    @Option(help: "json | yaml (default: from the file name or content).") var format: DocumentFormat?
    @Flag(help: "Print what would change, change nothing.") var dryRun = false

    func run() throws {
        try runCommand(global) {
            let contents: String
            if file == "-" {
                contents = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
                guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(file) is not UTF-8 text") }
                contents = text
            }
            let document = try (format ?? .guess(path: file, contents: contents)).decode(contents, path: file)
            let store = try global.openStore()
            let summary: ApplySummary
            do { summary = try store.apply(document, dryRun: dryRun) } catch let error as StoreError {
                throw CLIError("\(file): \(error.description)")
            }
            if global.json {
                struct SummaryJSON: Encodable {
                    let rolesCreated, rolesUpdated, rolesUnchanged, usersCreated, usersUpdated, usersUnchanged: [String]
                    let changed, dryRun: Bool
                }
                return try Output.json(SummaryJSON(rolesCreated: summary.rolesCreated, rolesUpdated: summary.rolesUpdated,
                                                   rolesUnchanged: summary.rolesUnchanged, usersCreated: summary.usersCreated,
                                                   usersUpdated: summary.usersUpdated, usersUnchanged: summary.usersUnchanged,
                                                   changed: summary.changed, dryRun: dryRun))
            }
            let counts = """
                roles \(summary.rolesCreated.count) created, \(summary.rolesUpdated.count) updated, \
                \(summary.rolesUnchanged.count) unchanged; users \(summary.usersCreated.count) created, \
                \(summary.usersUpdated.count) updated, \(summary.usersUnchanged.count) unchanged
                """
            guard dryRun else {
                return Output.line(summary.changed ? "applied \(file): \(counts)" : "applied \(file): nothing to change")
            }
            Output.line("dry run, nothing written: applying \(file) would " + (summary.changed ? "give \(counts)" : "change nothing"))
            Output.table(["kind", "name", "change"], Self.items(document, summary))
        }
    }

    /// One row per role and user of the file, in the file's order.
    static func items(_ document: PolicyDocument, _ summary: ApplySummary) -> [[String]] {
        func change(_ name: String, created: [String], updated: [String]) -> String {
            created.contains(name) ? "create" : updated.contains(name) ? "update" : "unchanged"
        }
        return document.roles.map { ["role", $0.name, change($0.name, created: summary.rolesCreated, updated: summary.rolesUpdated)] }
            + document.users.map { ["user", $0.username, change($0.username, created: summary.usersCreated, updated: summary.usersUpdated)] }
    }
}
