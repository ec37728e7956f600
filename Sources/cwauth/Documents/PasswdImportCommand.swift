import ArgumentParser
import AuthCore
import Foundation

struct PasswdImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd-import", abstract: "Import users from a mosquitto_passwd file (user:hash per line).",
        discussion: """
            Importing the same file again skips every user (or with --update sets the same hashes). With \
            --json: the usernames {"created": […], "updated": […], "skipped": […]} and "changed".
            """)
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
    @Argument var file: String
    @Option(name: .customLong("role"), help: "Role to give every imported user (repeatable).") var roles: [String] = []
    @Flag(help: "Replace the password hash of users that already exist (otherwise they are skipped).") var update = false

    func run() throws {
        try runCommand(global) {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw CLIError("cannot read \(file)")
            }
            var entries: [(String, String)] = []
            for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                guard let colon = line.firstIndex(of: ":") else { throw CLIError("\(file):\(number + 1): expected user:hash") }
                let user = String(line[..<colon])
                let hash = String(line[line.index(after: colon)...])
                do { try Validation.validateUsername(user) } catch { throw CLIError("\(file):\(number + 1): \(error)") }
                do { _ = try PasswordHash(parsing: hash) } catch { throw CLIError("\(file):\(number + 1): \(error)") }
                entries.append((user, hash))
            }
            let store = try global.openStore()
            var created: [String] = [], updated: [String] = [], skipped: [String] = []
            try store.transaction { () throws(StoreError) in
                for (user, hash) in entries {
                    if try store.user(named: user) != nil {
                        if update { try store.setPassword(user, hash: hash); updated.append(user) } else { skipped.append(user) }
                    } else {
                        try store.addUser(User(username: user, passwordHash: hash, roles: roles, origin: .manual))
                        created.append(user)
                    }
                }
            }
            if global.json {
                struct ImportJSON: Encodable { let created, updated, skipped: [String]; let changed: Bool }
                return try Output.json(ImportJSON(created: created, updated: updated, skipped: skipped,
                                                  changed: !(created.isEmpty && updated.isEmpty)))
            }
            Output.line("imported \(file): \(created.count) created, \(updated.count) updated, \(skipped.count) skipped (already exist)")
        }
    }
}
