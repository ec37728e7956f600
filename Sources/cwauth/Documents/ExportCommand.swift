import ArgumentParser
import AuthCore
import CWAuthServer
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Print all roles and users as a file `apply` takes back (password hashes, never passwords).",
        discussion: """
            With --json and no --output: the document as JSON (--format json). With --json and --output: \
            {"file": FILE, "format": …, "roles": N, "users": N}.
            """)
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
    @Option(help: "json | yaml (default: yaml; json for --json without --output)") var format: DocumentFormat?
    @Option(name: [.short, .long], help: "Write to this file instead of standard output.") var output: String?

    func run() throws {
        try runCommand(global) {
            // Standard output with --json is JSON, whatever it carries.
            if global.json && output == nil && format == .yaml {
                throw CLIError("--json prints the document as JSON: leave out --format yaml, or write it with --output")
            }
            let format = format ?? (global.json && output == nil ? .json : .yaml)
            let document = try global.openStore().export()
            let text = try format.encode(document)
            if let output {
                try AtomicFile.write(text, to: output, mode: AtomicFile.privateMode)
                if global.json {
                    try Output.json(["file": .string(output), "format": .string(format.rawValue),
                                     "roles": .int(Int64(document.roles.count)), "users": .int(Int64(document.users.count))] as JSONValue)
                }
            } else {
                Output.document(text)
            }
        }
    }
}
