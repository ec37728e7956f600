import ArgumentParser
import AuthCore
import CWAuthServer

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Show the audit log, newest first.")
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
    @Option(help: "How many entries.") var limit: Int = Store.defaultAuditLimit

    func run() throws {
        try runCommand(global) {
            let entries = try global.openStore().auditLog(limit: limit)
            if global.json { return try Output.json(.array(entries.map(Representation.audit))) }
            Output.table(["at", "actor", "action", "subject", "detail"], entries.map {
                [Output.iso8601($0.at), $0.actor, $0.action, $0.subject, $0.detail]
            })
        }
    }
}
