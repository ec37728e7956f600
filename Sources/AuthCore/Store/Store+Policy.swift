/// Everything the broker needs to decide, read in one consistent transaction.
public struct Policy: Sendable, Equatable {
    public var users: [User]
    public var roles: [Role]
    public var registry: RegistryWindow

    public init(users: [User], roles: [Role], registry: RegistryWindow) {
        self.users = users
        self.roles = roles
        self.registry = registry
    }
}

extension Store {
    public func loadPolicy() throws(StoreError) -> Policy {
        try db.readTransaction { () throws(StoreError) -> Policy in
            Policy(users: try listUsers(), roles: try listRoles(), registry: try registryWindow())
        }
    }
}
