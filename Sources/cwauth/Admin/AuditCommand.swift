import ArgumentParser
import AuthCore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Show the audit log, newest first.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "How many entries.") var limit: Int = 50

    func run() throws {
        try runCommand {
            let entries = try global.openStore().auditLog(limit: limit)
            if global.json {
                struct EntryJSON: Encodable { let id: Int64; let at: String; let actor, action, subject, detail: String }
                return try Output.json(entries.map {
                    EntryJSON(id: $0.id, at: Output.iso8601($0.at), actor: $0.actor, action: $0.action, subject: $0.subject, detail: $0.detail)
                })
            }
            Output.table(["at", "actor", "action", "subject", "detail"], entries.map {
                [Output.iso8601($0.at), $0.actor, $0.action, $0.subject, $0.detail]
            })
        }
    }
}
