import ArgumentParser
import AuthCore
import Foundation

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Make the roles and users in a YAML or JSON file exist exactly as written (all or nothing).",
        discussion: "Roles and users not in the file are left alone. Applying the same file twice changes nothing.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "File to apply; - reads standard input.") var file: String
    @Option(help: "json | yaml (default: from the file name or content).") var format: DocumentFormat?

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
            do { summary = try store.apply(document) } catch let error as StoreError {
                throw CLIError("\(file): \(error.description)")
            }
            if global.json {
                struct SummaryJSON: Encodable {
                    let rolesCreated, rolesUpdated, rolesUnchanged, usersCreated, usersUpdated, usersUnchanged: [String]
                }
                return try Output.json(SummaryJSON(rolesCreated: summary.rolesCreated, rolesUpdated: summary.rolesUpdated,
                                                   rolesUnchanged: summary.rolesUnchanged, usersCreated: summary.usersCreated,
                                                   usersUpdated: summary.usersUpdated, usersUnchanged: summary.usersUnchanged))
            }
            Output.line(summary.changed ? """
                applied \(file): roles \(summary.rolesCreated.count) created, \(summary.rolesUpdated.count) updated, \
                \(summary.rolesUnchanged.count) unchanged; users \(summary.usersCreated.count) created, \
                \(summary.usersUpdated.count) updated, \(summary.usersUnchanged.count) unchanged
                """ : "applied \(file): nothing to change")
        }
    }
}
