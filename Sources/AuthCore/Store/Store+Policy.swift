/// Everything the broker needs to decide, read in one consistent transaction.
public struct Policy: Sendable, Equatable {
    public var users: [User]
    public var roles: [Role]
    public var registry: RegistryWindow
    /// SHA-256 fingerprints (lowercase hex of the DER) of the unrevoked certificates issued to each
    /// certificate user: the only certificates the broker admits.
    public var certificates: [String: Set<String>]

    public init(users: [User], roles: [Role], registry: RegistryWindow, certificates: [String: Set<String>] = [:]) {
        self.users = users
        self.roles = roles
        self.registry = registry
        self.certificates = certificates
    }
}

extension Store {
    public func loadPolicy() throws(StoreError) -> Policy {
        try db.readTransaction { () throws(StoreError) -> Policy in
            Policy(users: try listUsers(), roles: try listRoles(), registry: try registryWindow(),
                   certificates: try validCertificateFingerprints())
        }
    }
}
