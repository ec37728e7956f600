import ArgumentParser
import AuthCore

struct RegistryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry", abstract: "The client registry: let unknown devices knock while a window is open.",
        subcommands: [Unlock.self, Lock.self, Status.self, List.self, Unblock.self])

    struct Unlock: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open the registration window (it closes by itself).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "How long the window stays open, 1–60 minutes.") var minutes: Int?
        @Option(help: "The same in seconds (for scripts and tests).") var seconds: Int?

        func run() throws {
            try runCommand {
                if minutes != nil && seconds != nil { throw CLIError("give --minutes or --seconds, not both") }
                if let minutes, !(1...Store.maxWindowMinutes).contains(minutes) {
                    throw CLIError("--minutes must be between 1 and \(Store.maxWindowMinutes)")
                }
                let total = Int64(seconds ?? (minutes ?? 5) * 60)
                let store = try global.openStore()
                try store.unlockRegistry(seconds: total)
                let window = try store.registryWindow()
                Output.line("registry unlocked for \(Output.duration(total)) (until \(Output.iso8601(window.openUntil)))")
            }
        }
    }

    struct Lock: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close the registration window now.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try runCommand {
                try global.openStore().lockRegistry()
                Output.line("registry locked")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Is the window open, and for how long.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try runCommand {
                let store = try global.openStore()
                let window = try store.registryWindow()
                let pending = try store.pendingRequests().count
                if global.json {
                    struct StatusJSON: Encodable {
                        let open: Bool; let openUntil: String?; let secondsLeft: Int64; let pending: Int; let rules: String
                    }
                    return try Output.json(StatusJSON(open: window.isOpen(), openUntil: window.isOpen() ? Output.iso8601(window.openUntil) : nil,
                                                      secondsLeft: window.secondsLeft(), pending: pending, rules: RegistryGate.rules))
                }
                if window.isOpen() {
                    Output.line("open: \(Output.duration(window.secondsLeft())) left (until \(Output.iso8601(window.openUntil))), \(pending) pending")
                } else {
                    Output.line("closed, \(pending) pending")
                }
                Output.line("rules: \(RegistryGate.rules)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pending registration requests.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try runCommand {
                let store = try global.openStore()
                _ = try? store.purgeStalePending() // housekeeping only; listing must work on a busy database too
                let pending = try store.pendingRequests()
                if global.json { return try Output.json(pending.map(PendingJSON.init)) }
                Output.table(["username", "client id", "address", "first seen", "last seen", "attempts", "status"], pending.map {
                    [$0.username, $0.clientId, $0.address, Output.timestamp($0.firstSeen), Output.timestamp($0.lastSeen),
                     String($0.attempts),
                     ($0.conflict ? "CONFLICT (\($0.conflictAttempts) with another password)" : "pending")
                        + RegistryCommand.requested($0)]
                })
            }
        }
    }

    /// For requests through the REST door: " (http; roles: a, b; context: …)" — what the device asked for,
    /// never granted without `allow --role`. Empty for MQTT requests.
    static func requested(_ request: PendingRequest) -> String {
        guard request.source != "mqtt" else { return "" }
        var parts = [request.source]
        if !request.requestedRoles.isEmpty { parts.append("roles: " + request.requestedRoles.joined(separator: ", ")) }
        if !request.requestedContext.isEmpty { parts.append("context: " + request.requestedContext) }
        return " (" + parts.joined(separator: "; ") + ")"
    }

    struct Unblock: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a username denied with --block register again.")
        @OptionGroup var global: GlobalOptions
        @Argument var username: String

        func run() throws {
            try runCommand {
                try global.openStore().unblock(username)
                Output.line("unblocked \(username)")
            }
        }
    }
}

struct AllowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allow",
        abstract: "Admit a pending device: create the user with the password it registered with.")
    @OptionGroup var global: GlobalOptions
    @Argument var username: String
    @Option(name: .customLong("role"), help: "Role to give (repeatable); without, the device may connect but do nothing.")
    var roles: [String] = []
    @Flag(help: "Admit a request flagged as conflict (someone tried another password); the first password wins.")
    var force = false

    func run() throws {
        try runCommand {
            let user = try global.openStore().allow(username, roles: roles, force: force)
            if global.json { return try Output.json(UserJSON(user)) }
            Output.line("allowed \(username)" + (roles.isEmpty ? " (no roles yet)" : " with roles \(user.roles.joined(separator: ", "))"))
        }
    }
}

struct DenyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deny", abstract: "Drop a pending request.")
    @OptionGroup var global: GlobalOptions
    @Argument var username: String
    @Flag(help: "Also never record this username again (until `registry unblock`).") var block = false

    func run() throws {
        try runCommand {
            try global.openStore().deny(username, block: block)
            Output.line("denied \(username)" + (block ? " and blocked it" : ""))
        }
    }
}
