/// The broker's decision, explained (the plugin's denial log, `cwauth check`, and the tests that hold
/// the hot path to it), by the rules of `BrokerSemantics`.
public struct BrokerDecision: Sendable, Equatable {
    public let access: BrokerAccess
    /// What the permissions were matched against: prefixed topic, or filter without `$share/GROUP/`.
    public let checkedTopic: String
    /// nil for unsubscribe, which no permission decides.
    public let decision: AclDecision?

    public var isAllowed: Bool { decision?.isAllowed ?? true }

    /// Why, in the words `cwauth check` and the broker log use.
    public var reason: String {
        switch decision {
        case nil: return "unsubscribe is always allowed"
        case let .allowed(role, permission)?:
            return "role \(role), permission \(permission.operation.rawValue) \(permission.resource)"
        case let .denied(why)?: return why.description
        }
    }
}

extension Snapshot {
    /// The broker's decision, explained. Same answer as the hot path (`allows`) for the same question.
    public func brokerDecision(username: String, clientId: String, topic: String, access: BrokerAccess) -> BrokerDecision {
        guard BrokerSemantics.needsPermission(access) else {
            return BrokerDecision(access: access, checkedTopic: topic, decision: nil)
        }
        if BrokerSemantics.isFilter(access) {
            let filter = BrokerSemantics.subscribedFilter(topic)
            return BrokerDecision(access: access, checkedTopic: filter,
                                  decision: decideSubscribe(username: username, clientId: clientId, filter: filter))
        }
        let checked = BrokerSemantics.usesPublishPrefix(access) ? (user(username)?.publishPrefix ?? "") + topic : topic
        return BrokerDecision(access: access, checkedTopic: checked,
                              decision: decide(username: username, clientId: clientId, topic: checked,
                                               access: BrokerSemantics.operation(access)))
    }
}
