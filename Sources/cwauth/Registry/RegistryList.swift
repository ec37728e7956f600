import ArgumentParser
import AuthCore
import CWAuthServer

extension RegistryCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pending registration requests.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                _ = try? store.purgeStalePending() // housekeeping only; listing must work on a busy database too
                let pending = try store.pendingRequests()
                if global.json { return try Output.json(.array(pending.map(Representation.pending))) }
                Output.table(["username", "client id", "address", "first seen", "last seen", "attempts", "status"], pending.map {
                    [$0.username, $0.clientId, $0.address, Output.timestamp($0.firstSeen), Output.timestamp($0.lastSeen),
                     String($0.attempts),
                     ($0.conflict ? "CONFLICT (\($0.conflictAttempts) with another password)" : "pending")
                        + Self.requested($0)]
                })
            }
        }

        /// For requests through the REST door: " (http; roles: a, b; context: …)" — what the device asked for,
        /// never granted without `allow --role`. Empty for MQTT requests.
        static func requested(_ request: PendingRequest) -> String {
            guard request.source != "mqtt" else { return "" }
            var parts = [request.source]
            if !request.requestedRoles.isEmpty { parts.append("roles: " + request.requestedRoles.joined(separator: ", ")) }
            if !request.requestedContext.isEmpty { parts.append("context: " + request.requestedContext) }
            if !request.csrFingerprint.isEmpty { parts.append("csr key sha256: " + request.csrFingerprint) }
            return " (" + parts.joined(separator: "; ") + ")"
        }
    }
}
