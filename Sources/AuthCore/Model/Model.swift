/// What a permission lets a client do with matching topics.
public enum Operation: String, Sendable, Hashable, CaseIterable, Codable {
    case read, write, readWrite

    /// Both operations' access together.
    public func adding(_ other: Operation) -> Operation {
        self == other ? self : .readWrite
    }

    public func allows(_ access: Access) -> Bool {
        switch (self, access) {
        case (.readWrite, _), (.read, .read), (.write, .write): return true
        default: return false
        }
    }
}

/// The kind of access a check asks for: `read` is subscribe and delivery, `write` is publish.
public enum Access: String, Sendable, Hashable, CaseIterable {
    case read, write
}

/// `mqtt` permissions govern the broker; `http` ones are reserved for the REST API's own checks.
public enum PermissionContext: String, Sendable, Hashable, CaseIterable, Codable {
    case mqtt, http
}

public struct Permission: Sendable, Hashable {
    public var resource: String
    public var operation: Operation
    public var context: PermissionContext

    public init(resource: String, operation: Operation, context: PermissionContext = .mqtt) {
        self.resource = resource
        self.operation = operation
        self.context = context
    }
}

// Strict like the rest of the policy document (PolicyDocument.swift): unknown fields are refused.
extension Permission: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case resource, operation, context }

    public init(from decoder: any Decoder) throws {
        let c = try strictContainer(decoder, keyedBy: CodingKeys.self)
        self.init(resource: try c.decode(String.self, forKey: .resource),
                  operation: try c.decode(Operation.self, forKey: .operation),
                  context: try c.decodeIfPresent(PermissionContext.self, forKey: .context) ?? .mqtt)
    }
}

public struct Role: Sendable, Equatable {
    public var name: String
    public var permissions: [Permission]

    public init(name: String, permissions: [Permission] = []) {
        self.name = name
        self.permissions = permissions
    }
}

/// How a user came to exist: typed by an administrator, admitted through the registry, or declared in an applied file.
public enum UserOrigin: String, Sendable, Hashable, CaseIterable, Codable {
    case manual, registry, apply
}

/// How a user proves who it is: a password, or a client certificate issued by the cwauth CA
/// (never both: a certificate user's password login is refused, a password user needs its password
/// whatever certificate it presents).
public enum AuthMethod: String, Sendable, Hashable, CaseIterable, Codable {
    case password, certificate
}

public struct User: Sendable, Equatable {
    public var username: String
    /// Empty for a certificate user that never had a password.
    public var passwordHash: String
    public var enabled: Bool
    /// Role names, sorted.
    public var roles: [String]
    public var publishPrefix: String?
    public var origin: UserOrigin
    public var createdAt: Int64
    public var updatedAt: Int64
    public var authMethod: AuthMethod

    public init(username: String, passwordHash: String, enabled: Bool = true, roles: [String] = [],
                publishPrefix: String? = nil, origin: UserOrigin = .manual, createdAt: Int64 = 0, updatedAt: Int64 = 0,
                authMethod: AuthMethod = .password) {
        self.authMethod = authMethod
        self.username = username
        self.passwordHash = passwordHash
        self.enabled = enabled
        self.roles = roles.sorted()
        self.publishPrefix = publishPrefix
        self.origin = origin
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A device that knocked while the registration window was open.
public struct PendingRequest: Sendable, Equatable {
    public var username: String
    public var clientId: String
    public var address: String
    public var passwordHash: String
    public var firstSeen: Int64
    public var lastSeen: Int64
    public var attempts: Int
    public var conflict: Bool
    public var conflictAttempts: Int
    /// Roles a device asked for through the REST door; shown to the admin, never granted without one.
    public var requestedRoles: [String]
    public var source: String
    /// Free text a device sent with its REST registration (e.g. where it sits); empty for MQTT.
    public var requestedContext: String
    /// The certificate signing request a REST registration carried (PEM), empty without one; its
    /// public key's SHA-256 (lowercase hex) is what the admin compares with the device.
    public var csrPEM: String
    public var csrFingerprint: String

    public init(username: String, clientId: String, address: String, passwordHash: String, firstSeen: Int64,
                lastSeen: Int64, attempts: Int, conflict: Bool, conflictAttempts: Int = 0,
                requestedRoles: [String] = [], source: String = "mqtt", requestedContext: String = "",
                csrPEM: String = "", csrFingerprint: String = "") {
        self.csrPEM = csrPEM
        self.csrFingerprint = csrFingerprint
        self.username = username
        self.clientId = clientId
        self.address = address
        self.passwordHash = passwordHash
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.attempts = attempts
        self.conflict = conflict
        self.conflictAttempts = conflictAttempts
        self.requestedRoles = requestedRoles
        self.source = source
        self.requestedContext = requestedContext
    }
}

public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var at: Int64
    public var actor: String
    public var action: String
    public var subject: String
    public var detail: String
}
