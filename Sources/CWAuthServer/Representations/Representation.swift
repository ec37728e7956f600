import AuthCore

/// The JSON shapes of the API (see docs/openapi.json); times are ISO-8601 UTC.
enum Representation {
    static func user(_ user: User) -> JSONValue {
        [
            "username": .string(user.username),
            "enabled": .bool(user.enabled),
            "roles": .strings(user.roles),
            "publishPrefix": .optional(user.publishPrefix),
            "origin": .string(user.origin.rawValue),
            "createdAt": .string(ISOTime.string(user.createdAt)),
            "updatedAt": .string(ISOTime.string(user.updatedAt)),
        ]
    }

    static func permission(_ permission: Permission) -> JSONValue {
        [
            "resource": .string(permission.resource),
            "operation": .string(permission.operation.rawValue),
            "context": .string(permission.context.rawValue),
        ]
    }

    static func role(_ role: Role) -> JSONValue {
        ["name": .string(role.name), "permissions": .array(role.permissions.map(permission))]
    }

    static func pending(_ request: PendingRequest) -> JSONValue {
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
            "requestedContext": .optional(request.requestedContext.isEmpty ? nil : request.requestedContext),
        ]
    }

    static func registryStatus(_ window: RegistryWindow, pending: [PendingRequest], now: Int64) -> JSONValue {
        let open = window.isOpen(at: now)
        return [
            "open": .bool(open),
            "openUntil": open ? .string(ISOTime.string(window.openUntil)) : .null,
            "secondsLeft": .int(window.secondsLeft(at: now)),
            "pending": .array(pending.map(Representation.pending)),
        ]
    }

    static func audit(_ entry: AuditEntry) -> JSONValue {
        [
            "id": .int(entry.id),
            "at": .string(ISOTime.string(entry.at)),
            "actor": .string(entry.actor),
            "action": .string(entry.action),
            "target": .string(entry.subject),
            "detail": .string(entry.detail),
        ]
    }
}
