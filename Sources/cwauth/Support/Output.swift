import AuthCore
import Foundation

/// Human tables on stdout, JSON for scripts, one-line errors on stderr.
enum Output {
    static func line(_ text: String) {
        print(Validation.escapingControls(text, keepLayout: true))
    }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data("cwauth: error: \(Validation.escapingControls(message))\n".utf8))
    }

    static func notice(_ message: String) {
        FileHandle.standardError.write(Data("cwauth: \(Validation.escapingControls(message))\n".utf8))
    }

    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Left-aligned columns, two spaces apart; header underlined by nothing (easy to grep and to read).
    static func table(_ header: [String], _ rows: [[String]]) {
        let rows = rows.map { $0.map { Validation.escapingControls($0) } }
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func render(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let isLast = i == cells.count - 1
                parts.append(isLast ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0))
            }
            return parts.joined(separator: "  ")
        }
        print(render(header.map { $0.uppercased() }))
        for row in rows { print(render(row)) }
    }

    static func timestamp(_ seconds: Int64) -> String {
        seconds == 0 ? "-" : iso8601(seconds)
    }

    static func iso8601(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    static func duration(_ seconds: Int64) -> String {
        seconds >= 60 ? "\(seconds / 60)m \(seconds % 60)s" : "\(seconds)s"
    }
}

/// JSON shapes of the listings, stable for scripts.
struct UserJSON: Encodable {
    let username: String
    let enabled: Bool
    let roles: [String]
    let publishPrefix: String?
    let origin: String
    let createdAt: String
    let updatedAt: String

    init(_ user: User) {
        username = user.username
        enabled = user.enabled
        roles = user.roles
        publishPrefix = user.publishPrefix
        origin = user.origin.rawValue
        createdAt = Output.iso8601(user.createdAt)
        updatedAt = Output.iso8601(user.updatedAt)
    }

    func encode(to encoder: any Encoder) throws {
        enum K: String, CodingKey { case username, enabled, roles, publishPrefix, origin, createdAt, updatedAt }
        var c = encoder.container(keyedBy: K.self)
        try c.encode(username, forKey: .username)
        try c.encode(enabled, forKey: .enabled)
        try c.encode(roles, forKey: .roles)
        try c.encode(publishPrefix, forKey: .publishPrefix) // explicit null: scripts see the field either way
        try c.encode(origin, forKey: .origin)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}

struct PermissionJSON: Encodable {
    let resource: String
    let operation: String
    let context: String

    init(_ p: Permission) {
        resource = p.resource
        operation = p.operation.rawValue
        context = p.context.rawValue
    }
}

struct RoleJSON: Encodable {
    let name: String
    let permissions: [PermissionJSON]
    let members: [String]?
}

struct PendingJSON: Encodable {
    let username: String
    let clientId: String
    let address: String
    let firstSeen: String
    let lastSeen: String
    let attempts: Int
    let conflict: Bool
    let conflictAttempts: Int
    let requestedRoles: [String]
    let requestedContext: String
    let source: String

    init(_ p: PendingRequest) {
        username = p.username
        clientId = p.clientId
        address = p.address
        firstSeen = Output.iso8601(p.firstSeen)
        lastSeen = Output.iso8601(p.lastSeen)
        attempts = p.attempts
        conflict = p.conflict
        conflictAttempts = p.conflictAttempts
        requestedRoles = p.requestedRoles
        requestedContext = p.requestedContext
        source = p.source
    }
}
