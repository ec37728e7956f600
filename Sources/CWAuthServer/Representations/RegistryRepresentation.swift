import AuthCore

extension Representation {
    /// docs/openapi.json `Pending`: one registration request waiting for an admin.
    public static func pending(_ request: PendingRequest) -> JSONValue {
        [
            "username": .string(request.username),
            "clientId": .string(request.clientId),
            "address": .string(request.address),
            "firstSeen": .string(ISOTime.string(request.firstSeen)),
            "lastSeen": .string(ISOTime.string(request.lastSeen)),
            "attempts": .int(Int64(request.attempts)),
            "conflict": .bool(request.conflict),
            "conflictAttempts": .int(Int64(request.conflictAttempts)),
            "source": .string(request.source),
            "requestedRoles": .strings(request.requestedRoles),
            // The store keeps "" for "nothing sent"; readers get null, as for every missing value.
            "requestedContext": .optional(request.requestedContext.isEmpty ? nil : request.requestedContext),
            "csrFingerprint": .optional(request.csrFingerprint.isEmpty ? nil : request.csrFingerprint),
        ]
    }

    /// docs/openapi.json `RegistryStatus`: the window at `now` and the requests waiting.
    public static func registryStatus(_ window: RegistryWindow, pending: [PendingRequest], now: Int64) -> JSONValue {
        let open = window.isOpen(at: now)
        return [
            "open": .bool(open),
            "openUntil": open ? .string(ISOTime.string(window.openUntil)) : .null,
            "secondsLeft": .int(window.secondsLeft(at: now)),
            "pending": .array(pending.map(Representation.pending)),
        ]
    }
}
