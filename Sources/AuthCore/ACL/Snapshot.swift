/// An immutable, fully compiled view of the store: the only thing the broker's hot path reads.
/// A new one is built off the hot path and swapped in whole, so a check never sees half a change.
public final class Snapshot: Sendable {
    /// The store's policy version (`Store.policyVersion`) the snapshot was built at.
    public let version: Int64
    public let registry: RegistryWindow
    public let users: [String: UserEntry]
    public let roleNames: [String]
    /// Users whose stored hash does not parse or is over the cost ceiling: they cannot log in.
    /// Sorted; the broker names them in its log.
    public let unusableHashes: [String]
    let acl: ReferenceAcl
    /// The same permissions compiled for the broker's hot path (see CompiledAcl.swift).
    let compiled: CompiledAcl

    public convenience init(policy: Policy, version: Int64 = 0) {
        self.init(policy: policy, version: version, prefetchAbove: CompiledAcl.prefetchThreshold)
    }

    /// `prefetchAbove`: see `CompiledAcl.prefetchThreshold`, `levelLimit`: see `CompiledAcl.complete`
    /// (tests lower them to run those paths on small policies); `determinize: false` keeps every
    /// role's plain trie (TrieDeterminizer.swift).
    init(policy: Policy, version: Int64, prefetchAbove: Int, levelLimit: UInt32 = EdgeTag.firstReserved,
         determinize: Bool = true) {
        self.version = version
        self.registry = policy.registry
        var roleIndex: [String: Int] = [:]
        for (i, role) in policy.roles.enumerated() { roleIndex[role.name] = i }
        self.roleNames = policy.roles.map(\.name)
        var users: [String: UserEntry] = [:]
        users.reserveCapacity(policy.users.count)
        for user in policy.users {
            users[user.username] = UserEntry(user: user, roleIDs: user.roles.compactMap { roleIndex[$0] },
                                             certificates: policy.certificates[user.username] ?? [])
        }
        self.users = users
        self.unusableHashes = users.values.filter { $0.passwordHash == nil && $0.authMethod == .password }.map(\.username).sorted()
        let acl = ReferenceAcl(roles: policy.roles)
        self.acl = acl
        self.compiled = CompiledAcl(acl: acl, users: Array(users.values), prefetchAbove: prefetchAbove, levelLimit: levelLimit,
                                    determinize: determinize)
    }

    public static let empty = Snapshot(policy: Policy(users: [], roles: [], registry: RegistryWindow(openUntil: 0)))

    public func user(_ username: String) -> UserEntry? { users[username] }

    /// Decision for publishing to (`write`) or receiving from (`read`) a concrete topic.
    public func decide(username: String, clientId: String, topic: String, access: Access) -> AclDecision {
        guard let user = users[username] else { return .denied(.unknownUser) }
        guard user.enabled else { return .denied(.userDisabled) }
        guard !user.roleIDs.isEmpty else { return .denied(.noRoles) }
        do { try TopicName.validate(topic) } catch { return .denied(.invalidTopic(error.description)) }
        return acl.decide(roleIDs: user.roleIDs, username: username, clientId: ClientIds.forSubstitution(clientId, of: username),
                          topic: topic, access: access)
    }

    /// Decision for SUBSCRIBE to `filter`: one read permission must cover every topic the filter can match.
    public func decideSubscribe(username: String, clientId: String, filter: String) -> AclDecision {
        guard let user = users[username] else { return .denied(.unknownUser) }
        guard user.enabled else { return .denied(.userDisabled) }
        guard !user.roleIDs.isEmpty else { return .denied(.noRoles) }
        let parsed: TopicFilter
        do { parsed = try TopicFilter(validating: filter, allowSubstitutions: false) } catch {
            return .denied(.invalidTopic(error.description))
        }
        return acl.decideSubscribe(roleIDs: user.roleIDs, username: username,
                                   clientId: ClientIds.forSubstitution(clientId, of: username), filter: parsed)
    }

    // MARK: - broker hot path

    /// The broker's question on its own bytes (UTF-8, no NUL), answered as `brokerDecision` would
    /// (`BrokerSemantics`): no allocation, no SQLite, no String.
    public func allows(username: UnsafeBufferPointer<UInt8>, clientId: UnsafeBufferPointer<UInt8>,
                       subject: UnsafeBufferPointer<UInt8>, access: BrokerAccess) -> Bool {
        guard BrokerSemantics.needsPermission(access) else { return true }
        guard compiled.complete else {
            return brokerDecision(username: Self.text(username), clientId: Self.text(clientId), topic: Self.text(subject),
                                  access: access).isAllowed
        }
        let clientId = ownClientId(clientId, username)
        if BrokerSemantics.isFilter(access) {
            return compiled.subscribeVerdict(username: username, clientId: clientId,
                                             filter: BrokerSemantics.subscribedFilter(subject)) == .allowed
        }
        return compiled.verdict(username: username, clientId: clientId, topic: subject,
                                access: BrokerSemantics.operation(access),
                                prefixed: BrokerSemantics.usesPublishPrefix(access)) == .allowed
    }

    /// `%c` stands only for a client id of the user's own (see `ClientIds`); any other is passed on
    /// empty, which matches no `%c` level. Policies without `%c` skip the comparison.
    @inline(__always)
    private func ownClientId(_ clientId: UnsafeBufferPointer<UInt8>, _ username: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        compiled.usesClientId && !ClientIds.belongs(clientId, to: username) ? UnsafeBufferPointer(start: nil, count: 0) : clientId
    }

    /// Whether the hot path runs on the compiled tries; false for a policy too large for them (see
    /// `CompiledAcl.complete`), which is then checked by the reference matcher.
    public var isCompiled: Bool { compiled.complete }

    /// Bytes as a String for the reference matcher. Mosquitto passes only valid UTF-8 here (MQTT
    /// requires it of usernames, client ids and topics).
    private static func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// Whether some user has a publish prefix (the broker then rewrites the topics of their publishes).
    public var hasPublishPrefixes: Bool { compiled.users.anyPrefix }

    /// Runs `body` on the user's publish prefix, or returns nil when the user has none: the broker's
    /// per-message rewrite, without building Strings for the (usual) users without a prefix.
    public func withPublishPrefix<R>(username: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        guard hasPublishPrefixes else { return nil }
        let prefix = compiled.publishPrefix(username: username)
        return prefix.isEmpty ? nil : withExtendedLifetime(self) { body(prefix) }
    }

    /// `allows` on Strings (tests, benchmarks): the byte version over the strings' UTF-8.
    public func allows(username: String, clientId: String, subject: String, access: BrokerAccess) -> Bool {
        var username = username
        var clientId = clientId
        var subject = subject
        return username.withUTF8 { u in
            clientId.withUTF8 { c in subject.withUTF8 { t in allows(username: u, clientId: c, subject: t, access: access) } }
        }
    }

    /// A publish (`write`) or delivery (`read`) as the broker checks it, on bytes (benchmarks).
    public func brokerAllows(username: UnsafeBufferPointer<UInt8>, clientId: UnsafeBufferPointer<UInt8>,
                             topic: UnsafeBufferPointer<UInt8>, access: Access) -> Bool {
        allows(username: username, clientId: clientId, subject: topic, access: access == .read ? .read : .write)
    }

    /// A publish (`write`) or delivery (`read`) as the broker checks it (tests, benchmarks).
    public func brokerAllows(username: String, clientId: String, topic: String, access: Access) -> Bool {
        allows(username: username, clientId: clientId, subject: topic, access: access == .read ? .read : .write)
    }

    /// A SUBSCRIBE as the broker checks it (tests, benchmarks).
    public func brokerAllowsSubscribe(username: String, clientId: String, filter: String) -> Bool {
        allows(username: username, clientId: clientId, subject: filter, access: .subscribe)
    }

    /// Bytes of the compiled ACL (tries, interned levels, user table); the reference form is extra.
    public var aclMemoryBytes: Int { compiled.memoryBytes }

    /// Bytes of the compiled ACL held in mappings of their own rather than on the malloc heap
    /// (large arrays, on 2 MB pages): what a malloc count of the snapshot does not see.
    public var aclMappedBytes: Int { compiled.mappedBytes }

    /// MQTT permissions compiled into the tries (valid filters, summed over roles).
    public var aclRuleCount: Int { compiled.ruleCount }

    /// What `newer` changes for the users of `self`, in one pass over them.
    public struct UserChanges: Sendable, Equatable {
        /// Password or enabled state differs, or the user is gone: an admin acted on them, so what
        /// the broker remembers about their logins (cache, back-off) starts over.
        public var changed: [String] = []
        /// Connected clients must go: deleted, disabled, a role taken away, or a new password (an old
        /// session must not outlive its credentials). Sorted.
        public var kick: [String] = []
    }

    public func userChanges(in newer: Snapshot) -> UserChanges {
        var changes = UserChanges()
        for (name, old) in users {
            guard let now = newer.users[name] else {
                changes.changed.append(name)
                changes.kick.append(name)
                continue
            }
            // A revoked certificate, or a change of login method, re-keys the user as a new password does.
            let rekeyed = old.encodedHash != now.encodedHash || old.authMethod != now.authMethod
                || !old.certificates.isSubset(of: now.certificates)
            if rekeyed || old.enabled != now.enabled { changes.changed.append(name) }
            let lostRole = old.roleNames != now.roleNames && !Set(old.roleNames).isSubset(of: Set(now.roleNames))
            if (old.enabled && !now.enabled) || rekeyed || lostRole {
                changes.kick.append(name)
            }
        }
        changes.kick.sort()
        return changes
    }
}

public struct UserEntry: Sendable {
    public let username: String
    public let encodedHash: String
    /// nil when the stored hash cannot be parsed: such a user can never log in.
    public let passwordHash: PasswordHash?
    public let enabled: Bool
    public let roleNames: [String]
    let roleIDs: [Int]
    public let publishPrefix: String?
    public let authMethod: AuthMethod
    /// Fingerprints (lowercase hex SHA-256 of the DER) of the certificates that admit this user;
    /// empty for password users.
    public let certificates: Set<String>

    init(user: User, roleIDs: [Int], certificates: Set<String> = []) {
        self.authMethod = user.authMethod
        self.certificates = user.authMethod == .certificate ? certificates : []
        self.username = user.username
        self.encodedHash = user.passwordHash
        // A certificate user's password (if it kept one) never admits it.
        self.passwordHash = user.authMethod == .password ? try? PasswordHash(parsing: user.passwordHash) : nil
        self.enabled = user.enabled
        self.roleNames = user.roles
        self.roleIDs = roleIDs
        self.publishPrefix = user.publishPrefix
    }
}

public enum AclDecision: Equatable, Sendable {
    case allowed(role: String, permission: Permission)
    case denied(DenyReason)

    public var isAllowed: Bool {
        if case .allowed = self { return true }
        return false
    }
}

public enum DenyReason: Equatable, Sendable, CustomStringConvertible {
    case unknownUser
    case userDisabled
    case noRoles
    case noMatchingPermission
    case invalidTopic(String)

    public var description: String {
        switch self {
        case .unknownUser: return "unknown user"
        case .userDisabled: return "user is disabled"
        case .noRoles: return "user has no roles"
        case .noMatchingPermission: return "no permission of the user's roles matches"
        case let .invalidTopic(reason): return reason
        }
    }
}
