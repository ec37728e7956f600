/// Admins, and the rule that the last one cannot be taken away.
///
/// An admin is an enabled user holding a role with an http `readWrite` permission that covers the whole
/// API, `/api/#` (what `cwauth init --admin` grants; `#` covers it too). That is the REST server's own test
/// (`HTTPAccess.allows`): such a user may call every endpoint. Every write transaction checks the rule
/// once, at its end (`Store.write`, `Store.transaction`), so the CLI, `apply` and the REST API all refuse a
/// change that would leave a database that had an admin without one — unassign, role rm, revoke or
/// downgrade of the permission, user rm, user disable, apply. A database that never had an admin stays
/// usable from the CLI: the rule only protects an admin that exists.
extension Store {
    /// The whole API, as the http permissions' topic syntax spells it.
    public static let adminScope = "/api/#"
    private static let adminFilter: TopicFilter? = try? TopicFilter(validating: adminScope)

    /// Whether `permission` makes `holder` an admin (see above): the one test for the store's last-admin
    /// rule and the REST server's.
    public static func makesAdmin(_ permission: Permission, holder: String) -> Bool {
        guard permission.context == .http, permission.operation == .readWrite, let scope = adminFilter,
              let filter = try? TopicFilter(validating: permission.resource) else { return false }
        return filter.covers(scope, username: holder, clientId: "")
    }

    /// Enabled users who are admins (see above), sorted.
    public func adminUsernames() throws(StoreError) -> [String] {
        let stmt = try db.prepare("""
            SELECT DISTINCT u.username, p.resource FROM permissions p
            JOIN user_roles ur ON ur.role_id = p.role_id
            JOIN users u ON u.id = ur.user_id
            WHERE p.context = 'http' AND p.operation = 'readWrite' AND u.enabled = 1
            ORDER BY u.username
            """)
        var names: [String] = []
        while try stmt.step() {
            let username = stmt.text(0)
            if names.last == username { continue }
            let permission = Permission(resource: stmt.text(1), operation: .readWrite, context: .http)
            if Self.makesAdmin(permission, holder: username) { names.append(username) }
        }
        return names
    }

    /// A write transaction that refuses (and rolls back) a change that would remove the last admin.
    func guardedWriteTransaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try db.writeTransaction { () throws(StoreError) -> T in
            let before = try adminUsernames()
            let value = try body()
            if !before.isEmpty, try adminUsernames().isEmpty {
                throw .conflict(Self.lastAdminMessage(before))
            }
            return value
        }
    }

    static func lastAdminMessage(_ admins: [String]) -> String {
        let who = admins.map { "\"\(Validation.printable($0))\"" }.joined(separator: ", ")
        let subject = admins.count == 1 ? "\(who) is the last admin" : "\(who) are the last admins"
        return "refused: \(subject) (an enabled user with a role granting http \(adminScope) readWrite) and this change would leave none; make another user an admin first"
    }
}
