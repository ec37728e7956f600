/// The broker's own semantics on top of the permission matcher, in one place, for everything that
/// explains a decision: the plugin's denial log, `cwauth check` and the tests that hold the hot
/// path to it. Mosquitto asks four things, and each is checked against the topic the permissions
/// are written for:
/// - publish (`write`): the topic as sent, behind the user's publish prefix;
/// - delivery (`read`): the topic of the message;
/// - subscribe: the filter, without a `$share/GROUP/` in front (the group is not part of the topic space);
/// - unsubscribe: always allowed (it can only take access away);
/// - a Last Will: its topic as given, since the broker publishes it without any rewrite.
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
    /// The broker's decision, explained. Same answer as the plugin's hot path for the same question.
    public func brokerDecision(username: String, clientId: String, topic: String, access: BrokerAccess) -> BrokerDecision {
        switch access {
        case .write:
            let checked = (user(username)?.publishPrefix ?? "") + topic
            return BrokerDecision(access: access, checkedTopic: checked,
                                  decision: decide(username: username, clientId: clientId, topic: checked, access: .write))
        case .read:
            return BrokerDecision(access: access, checkedTopic: topic,
                                  decision: decide(username: username, clientId: clientId, topic: topic, access: .read))
        case .will:
            return BrokerDecision(access: access, checkedTopic: topic,
                                  decision: decide(username: username, clientId: clientId, topic: topic, access: .write))
        case .subscribe:
            let filter = Self.withoutSharePrefix(topic)
            return BrokerDecision(access: access, checkedTopic: filter,
                                  decision: decideSubscribe(username: username, clientId: clientId, filter: filter))
        case .unsubscribe:
            return BrokerDecision(access: access, checkedTopic: topic, decision: nil)
        }
    }

    /// `$share/GROUP/filter` → `filter`: the hot path's byte function, on a String.
    public static func withoutSharePrefix(_ filter: String) -> String {
        var filter = filter
        return filter.withUTF8 { String(decoding: CompiledAcl.stripSharePrefix($0), as: UTF8.self) }
    }
}
