/// What the broker asks about a topic. Mosquitto's MOSQ_ACL_* map onto these one to one, plus the
/// Last Will, which the plugin tells apart from an ordinary publish.
public enum BrokerAccess: Sendable {
    case read, write, subscribe, unsubscribe
    /// The broker publishes a client's Last Will.
    case will
}

/// The broker's semantics on top of the permission matcher, in one place: the hot path
/// (`Snapshot.allows`), the explained decision (`Snapshot.brokerDecision`: the denial log,
/// `cwauth check`) and the tests that hold one to the other all ask these.
public enum BrokerSemantics {
    /// Unsubscribing can only take access away, so no permission decides it.
    @inline(__always)
    public static func needsPermission(_ access: BrokerAccess) -> Bool {
        access != .unsubscribe
    }

    /// SUBSCRIBE (and UNSUBSCRIBE) name a filter: one read permission must cover every topic it can match.
    @inline(__always)
    public static func isFilter(_ access: BrokerAccess) -> Bool {
        access == .subscribe || access == .unsubscribe
    }

    /// The permission operation that decides a topic question.
    @inline(__always)
    public static func operation(_ access: BrokerAccess) -> Access {
        access == .write || access == .will ? .write : .read
    }

    /// Mosquitto checks a publish on the topic as sent, before MOSQ_EVT_MESSAGE puts the user's
    /// publish prefix in front; permissions are written for the topic really published, so a
    /// publish is checked behind the prefix. No MOSQ_EVT_MESSAGE rewrites a Last Will: it is
    /// checked on its topic as given, and goes out only where the user may publish that very topic.
    @inline(__always)
    public static func usesPublishPrefix(_ access: BrokerAccess) -> Bool {
        access == .write
    }

    /// `$share/GROUP/filter` → `filter` (unchanged when there is no second '/'): the share group is
    /// no part of the topic space the permissions describe.
    public static func subscribedFilter(_ filter: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard filter.count > 7, let base = filter.baseAddress,
              base[0] == UInt8(ascii: "$"), base[1] == UInt8(ascii: "s"), base[2] == UInt8(ascii: "h"),
              base[3] == UInt8(ascii: "a"), base[4] == UInt8(ascii: "r"), base[5] == UInt8(ascii: "e"),
              base[6] == TopicSyntax.slash
        else { return filter }
        var i = 7
        while i < filter.count {
            if base[i] == TopicSyntax.slash {
                return UnsafeBufferPointer(start: base + i + 1, count: filter.count - i - 1)
            }
            i += 1
        }
        return filter
    }

    /// `subscribedFilter` on a String.
    public static func subscribedFilter(_ filter: String) -> String {
        var filter = filter
        return filter.withUTF8 { String(decoding: subscribedFilter($0), as: UTF8.self) }
    }

    /// Whether `cwauth check --op read TOPIC` asks about a subscription: TOPIC has a wildcard or a
    /// `$share/` group, which no delivered topic can have.
    public static func namesSubscription(_ topic: String) -> Bool {
        topic.utf8.contains { $0 == TopicSyntax.plus || $0 == TopicSyntax.hash } || topic.hasPrefix("$share/")
    }
}
