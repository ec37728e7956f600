import ArgumentParser
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Print all roles and users as a file `apply` takes back (password hashes, never passwords).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "json | yaml") var format: DocumentFormat = .yaml
    @Option(name: [.short, .long], help: "Write to this file instead of standard output.") var output: String?

    func run() throws {
        try runCommand(global) {
            let text = try format.encode(try global.openStore().export())
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data((text.hasSuffix("\n") ? text : text + "\n").utf8),
                                                     attributes: [.posixPermissions: 0o600]) else {
                    throw CLIError("cannot write \(output)")
                }
            } else {
                print(text.hasSuffix("\n") ? String(text.dropLast()) : text)
            }
        }
    }
}
