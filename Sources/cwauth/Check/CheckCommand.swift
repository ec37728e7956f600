import ArgumentParser
import AuthCore
import CWAuthServer

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Would the broker let USER publish (write) or receive (read) TOPIC? Exit 0 allowed, 3 denied.",
        discussion: "The broker's own decision: a publish is checked behind the user's publish prefix; with --op read, a TOPIC containing + or #, or starting with $share/GROUP/, is checked as a SUBSCRIBE filter (one permission must cover it all; the share group is not part of the topic).")
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
    @Argument var username: String
    @Argument var topic: String
    @Option(help: "read | write") var op: Access
    @Option(help: "Client id, for permissions using %c.") var clientId: String = ""

    func run() throws {
        var allowed = false
        try runCommand(global) {
            let store = try global.openStore()
            _ = try store.requireUser(username)
            let snapshot = Snapshot(policy: try store.loadPolicy())
            let isFilter = BrokerSemantics.namesSubscription(topic)
            if isFilter && op == .write { throw CLIError("cannot publish to a filter with wildcards: \(topic)") }
            let access: BrokerAccess = isFilter ? .subscribe : op == .write ? .write : .read
            if let owner = ClientIds.owner(of: clientId, exists: { snapshot.user($0) != nil }), owner != username {
                let reason = "client id \(clientId) belongs to user \(owner): the broker refuses \(username)'s connection"
                if global.json {
                    return try Output.json(CheckJSON(allowed: false, username: username, topic: topic, access: op.rawValue,
                                                     role: nil, permission: nil, reason: reason, checkedTopic: topic))
                }
                return Output.line("denied: \(username) may not \(op.rawValue) \(topic) (\(reason))")
            }
            let foreignId = !clientId.isEmpty && !ClientIds.belongs(clientId, to: username)
            let verdict = snapshot.brokerDecision(username: username, clientId: clientId, topic: topic, access: access)
            let action = isFilter ? "subscribe" : op.rawValue
            let checked = verdict.checkedTopic == topic ? "" : " (checked as \(verdict.checkedTopic))"
            guard let decision = verdict.decision else { return }
            switch decision {
            case let .allowed(role, permission):
                allowed = true
                if global.json {
                    return try Output.json(CheckJSON(allowed: true, username: username, topic: topic, access: action,
                                                     role: role, permission: Representation.permission(permission), reason: nil,
                                                     checkedTopic: verdict.checkedTopic))
                }
                Output.line("allowed: \(username) may \(action) \(topic)\(checked) (\(verdict.reason))")
            case let .denied(reason):
                if global.json {
                    return try Output.json(CheckJSON(allowed: false, username: username, topic: topic, access: action,
                                                     role: nil, permission: nil, reason: reason.description,
                                                     checkedTopic: verdict.checkedTopic))
                }
                let note = foreignId ? "; client id \(clientId) is not \(username)'s own, so %c matches nothing" : ""
                Output.line("denied: \(username) may not \(action) \(topic)\(checked) (\(reason.description)\(note))")
            }
        }
        if !allowed { throw ExitCode(3) }
    }

    struct CheckJSON: Encodable {
        let allowed: Bool
        let username: String
        let topic: String
        let access: String
        let role: String?
        let permission: JSONValue?
        let reason: String?
        /// What the permissions were matched against: behind the publish prefix, without `$share/GROUP/`.
        let checkedTopic: String
    }
}
