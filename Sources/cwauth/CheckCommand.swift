import ArgumentParser
import AuthCore

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Would the broker let USER publish (write) or receive (read) TOPIC? Exit 0 allowed, 3 denied.",
        discussion: "With --op read, a TOPIC containing + or # is checked as a SUBSCRIBE filter (one permission must cover it all).")
    @OptionGroup var global: GlobalOptions
    @Argument var username: String
    @Argument var topic: String
    @Option(help: "read | write") var op: Access
    @Option(help: "Client id, for permissions using %c.") var clientId: String = ""

    func run() throws {
        var allowed = false
        try runCommand {
            let store = try global.openStore()
            _ = try store.requireUser(username)
            let snapshot = Snapshot(policy: try store.loadPolicy())
            let isFilter = topic.contains("+") || topic.contains("#")
            if isFilter && op == .write { throw CLIError("cannot publish to a filter with wildcards: \(topic)") }
            let decision = isFilter
                ? snapshot.decideSubscribe(username: username, clientId: clientId, filter: topic)
                : snapshot.decide(username: username, clientId: clientId, topic: topic, access: op)
            let action = isFilter ? "subscribe" : op.rawValue
            switch decision {
            case let .allowed(role, permission):
                allowed = true
                if global.json {
                    return try Output.json(CheckJSON(allowed: true, username: username, topic: topic, access: action,
                                                     role: role, permission: PermissionJSON(permission), reason: nil))
                }
                Output.line("allowed: \(username) may \(action) \(topic) (role \(role), permission \(permission.operation.rawValue) \(permission.resource))")
            case let .denied(reason):
                if global.json {
                    return try Output.json(CheckJSON(allowed: false, username: username, topic: topic, access: action,
                                                     role: nil, permission: nil, reason: reason.description))
                }
                Output.line("denied: \(username) may not \(action) \(topic) (\(reason.description))")
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
        let permission: PermissionJSON?
        let reason: String?
    }
}

extension Access: ExpressibleByArgument {}
