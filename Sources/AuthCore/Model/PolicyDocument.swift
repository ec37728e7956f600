/// The declarative file of `cwauth apply` / `cwauth export` (mirrors Connectware's Cybus::User / Cybus::Role).
/// Pure Codable: the CLI chooses JSON or YAML; decoding rejects unknown fields so typos never pass silently.
public struct PolicyDocument: Codable, Sendable, Equatable {
    public var roles: [RoleSpec]
    public var users: [UserSpec]

    public init(roles: [RoleSpec] = [], users: [UserSpec] = []) {
        self.roles = roles
        self.users = users
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case roles, users }

    public init(from decoder: any Decoder) throws {
        let c = try strictContainer(decoder, keyedBy: CodingKeys.self)
        roles = try c.decodeIfPresent([RoleSpec].self, forKey: .roles) ?? []
        users = try c.decodeIfPresent([UserSpec].self, forKey: .users) ?? []
    }
}

public struct RoleSpec: Codable, Sendable, Equatable {
    public var name: String
    public var permissions: [PermissionSpec]

    public init(name: String, permissions: [PermissionSpec]) {
        self.name = name
        self.permissions = permissions
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, permissions }

    public init(from decoder: any Decoder) throws {
        let c = try strictContainer(decoder, keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        permissions = try c.decodeIfPresent([PermissionSpec].self, forKey: .permissions) ?? []
    }
}

/// A permission in the document is the model's own `Permission`: one spelling of the concept.
public typealias PermissionSpec = Permission

public struct UserSpec: Codable, Sendable, Equatable {
    public var username: String
    public var password: String?
    public var passwordHash: String?
    public var roles: [String]
    public var enabled: Bool
    public var publishPrefix: String?
    /// `certificate`: the user logs in with a certificate issued by the cwauth CA and needs no
    /// password (certificates themselves are never in a document). nil: a password user, or as it is.
    public var authMethod: AuthMethod?

    public init(username: String, password: String? = nil, passwordHash: String? = nil, roles: [String] = [],
                enabled: Bool = true, publishPrefix: String? = nil, authMethod: AuthMethod? = nil) {
        self.authMethod = authMethod
        self.username = username
        self.password = password
        self.passwordHash = passwordHash
        self.roles = roles
        self.enabled = enabled
        self.publishPrefix = publishPrefix
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case username, password, passwordHash, roles, enabled, publishPrefix, authMethod }

    public init(from decoder: any Decoder) throws {
        let c = try strictContainer(decoder, keyedBy: CodingKeys.self)
        username = try c.decode(String.self, forKey: .username)
        password = try c.decodeIfPresent(String.self, forKey: .password)
        passwordHash = try c.decodeIfPresent(String.self, forKey: .passwordHash)
        roles = try c.decodeIfPresent([String].self, forKey: .roles) ?? []
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        publishPrefix = try c.decodeIfPresent(String.self, forKey: .publishPrefix)
        authMethod = try c.decodeIfPresent(AuthMethod.self, forKey: .authMethod)
    }
}

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// The keyed container of a document object whose unknown fields are refused, so that typos never
/// pass silently.
func strictContainer<Key: CodingKey & CaseIterable & RawRepresentable>(
    _ decoder: any Decoder, keyedBy: Key.Type
) throws -> KeyedDecodingContainer<Key> where Key.RawValue == String {
    let allowed = Key.allCases.map(\.rawValue)
    let container = try decoder.container(keyedBy: AnyCodingKey.self)
    for key in container.allKeys where !allowed.contains(key.stringValue) {
        throw DecodingError.dataCorrupted(.init(
            codingPath: container.codingPath + [key],
            debugDescription: "unknown field \"\(key.stringValue)\" (expected one of: \(allowed.joined(separator: ", ")))"))
    }
    return try decoder.container(keyedBy: Key.self)
}
