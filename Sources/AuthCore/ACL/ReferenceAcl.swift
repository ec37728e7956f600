/// The plain, obviously-correct ACL: try every permission of every role of the user.
/// It explains decisions (which role and permission) and is the oracle the fast trie is tested against.
struct ReferenceAcl: Sendable {
    struct Entry: Sendable {
        let filter: TopicFilter
        let permission: Permission
    }

    /// Per role index: its MQTT permissions, parsed once.
    let roles: [(name: String, entries: [Entry])]

    init(roles: [Role]) {
        self.roles = roles.map { role in
            (role.name, role.permissions.compactMap { p -> Entry? in
                guard p.context == .mqtt, let filter = try? TopicFilter(validating: p.resource) else { return nil }
                return Entry(filter: filter, permission: p)
            })
        }
    }

    func decide(roleIDs: [Int], username: String, clientId: String, topic: String, access: Access) -> AclDecision {
        for id in roleIDs {
            for entry in roles[id].entries where entry.permission.operation.allows(access) {
                if entry.filter.matches(topic: topic, username: username, clientId: clientId) {
                    return .allowed(role: roles[id].name, permission: entry.permission)
                }
            }
        }
        return .denied(.noMatchingPermission)
    }

    func decideSubscribe(roleIDs: [Int], username: String, clientId: String, filter: TopicFilter) -> AclDecision {
        for id in roleIDs {
            for entry in roles[id].entries where entry.permission.operation.allows(.read) {
                if entry.filter.covers(filter, username: username, clientId: clientId) {
                    return .allowed(role: roles[id].name, permission: entry.permission)
                }
            }
        }
        return .denied(.noMatchingPermission)
    }
}
