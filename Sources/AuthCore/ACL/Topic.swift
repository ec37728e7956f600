// MQTT topic names and topic filters (MQTT 3.1.1 / 5.0 §4.7), plus the `%u` / `%c`
// substitutions used in permission resources.
//
// These are the *reference* semantics: every faster matcher (e.g. a trie) is tested
// against them, so they favour obviousness over speed. All work is linear in the input.
//
// Everything is compared on UTF-8 bytes. Swift's `String ==` uses Unicode canonical
// equivalence, but MQTT compares topics without any normalisation, and an ACL that
// treated "é" (U+00E9) and "e\u{301}" as the same topic would grant access the broker
// itself considers to be a different topic.

public enum TopicError: Error, Equatable, Sendable, CustomStringConvertible {
    /// "" is neither a topic name nor a topic filter.
    case empty
    /// More than 65535 UTF-8 bytes (the associated value is the byte count).
    case tooLong(Int)
    case containsNul
    /// '#' not last or not alone in its level, e.g. "a/#/b", "a/b#".
    case misplacedMultiLevelWildcard(String)
    /// '+' not alone in its level, e.g. "a/b+".
    case misplacedSingleLevelWildcard(String)
    /// Topic *names* (publish topics) may not contain '+' or '#'.
    case wildcardInTopicName(String)

    public var description: String {
        switch self {
        case .empty:
            return "invalid topic: it is empty"
        case .tooLong(let bytes):
            return "invalid topic: \(bytes) bytes long, the maximum is \(TopicSyntax.maxBytes) bytes"
        case .containsNul:
            return "invalid topic: it contains a NUL character"
        case .misplacedMultiLevelWildcard(let text):
            return "invalid topic filter \(TopicSyntax.quoted(text)): '#' must be the last level and alone in it"
        case .misplacedSingleLevelWildcard(let text):
            return "invalid topic filter \(TopicSyntax.quoted(text)): '+' must be alone in its level"
        case .wildcardInTopicName(let text):
            return "invalid topic name \(TopicSyntax.quoted(text)): a topic name may not contain '+' or '#'"
        }
    }
}

public enum FilterLevel: Hashable, Sendable {
    case literal(String)
    /// `+`
    case single
    /// `#`
    case multi
    /// A whole level exactly "%u" (only when substitutions are allowed).
    case username
    /// A whole level exactly "%c" (only when substitutions are allowed).
    case clientId

    // Hand-written so that literals compare as bytes (see the file header), and hashing
    // stays consistent with that equality.
    public static func == (lhs: FilterLevel, rhs: FilterLevel) -> Bool {
        switch (lhs, rhs) {
        case (.literal(let a), .literal(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.single, .single), (.multi, .multi), (.username, .username), (.clientId, .clientId): return true
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .literal(let text):
            hasher.combine(0 as UInt8)
            hasher.combine(text.utf8.count)
            for byte in text.utf8 { hasher.combine(byte) }
        case .single: hasher.combine(1 as UInt8)
        case .multi: hasher.combine(2 as UInt8)
        case .username: hasher.combine(3 as UInt8)
        case .clientId: hasher.combine(4 as UInt8)
        }
    }

    var isWildcard: Bool {
        switch self {
        case .single, .multi: return true
        case .literal, .username, .clientId: return false
        }
    }

    /// The one text this level stands for, nil for wildcards. %u/%c read as their own text,
    /// which is what they mean in a client's SUBSCRIBE.
    var literalText: String? {
        switch self {
        case .literal(let text): return text
        case .username: return "%u"
        case .clientId: return "%c"
        case .single, .multi: return nil
        }
    }

    /// How the level is spelled in a filter's text.
    var spelling: String {
        switch self {
        case .literal(let text): return text
        case .single: return "+"
        case .multi: return "#"
        case .username: return "%u"
        case .clientId: return "%c"
        }
    }
}

public struct TopicFilter: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    public let levels: [FilterLevel]

    /// Validates per MQTT 3.1.1/5 §4.7. allowSubstitutions: true for permission resources
    /// (a whole level "%u"/"%c" becomes .username/.clientId); false for filters sent by clients
    /// in SUBSCRIBE (there "%u" is just literal text).
    public init(validating text: String, allowSubstitutions: Bool = true) throws(TopicError) {
        try TopicSyntax.checkCommon(text)
        let rawLevels = TopicSyntax.split(text)
        var levels: [FilterLevel] = []
        levels.reserveCapacity(rawLevels.count)
        for (index, raw) in rawLevels.enumerated() {
            if raw.contains(TopicSyntax.hash) {
                guard raw.count == 1, index == rawLevels.count - 1 else {
                    throw .misplacedMultiLevelWildcard(text)
                }
                levels.append(.multi)
            } else if raw.contains(TopicSyntax.plus) {
                guard raw.count == 1 else { throw .misplacedSingleLevelWildcard(text) }
                levels.append(.single)
            } else if allowSubstitutions && raw.elementsEqual("%u".utf8) {
                levels.append(.username)
            } else if allowSubstitutions && raw.elementsEqual("%c".utf8) {
                levels.append(.clientId)
            } else {
                levels.append(.literal(String(decoding: raw, as: UTF8.self)))
            }
        }
        self.text = text
        self.levels = levels
    }

    /// For levels that are already known to be valid (e.g. after substitution). No length
    /// check: a substituted filter may legitimately exceed 65535 bytes (a long client id
    /// in "%c/#") and still match the topic made of just that client id.
    init(trustedLevels levels: [FilterLevel]) {
        self.levels = levels
        self.text = levels.map(\.spelling).joined(separator: "/")
    }

    public var description: String { text }

    /// Contains + or #.
    public var hasWildcards: Bool { levels.contains { $0.isWildcard } }

    /// Contains %u or %c.
    public var hasSubstitutions: Bool {
        levels.contains { $0 == .username || $0 == .clientId }
    }

    // `text` is a function of `levels` except that it can't tell a literal "%u" from a
    // substitution, so equality goes by levels alone.
    public static func == (lhs: TopicFilter, rhs: TopicFilter) -> Bool { lhs.levels == rhs.levels }
    public func hash(into hasher: inout Hasher) { hasher.combine(levels) }

    /// Replaces %u/%c levels by literals. Returns nil when the value cannot stand as exactly one
    /// level: empty, or contains '/', '+', '#' or NUL (then the permission must never match — deny).
    /// Only values the filter actually uses are checked.
    public func substituted(username: String, clientId: String) -> TopicFilter? {
        guard hasSubstitutions else { return self }
        var result: [FilterLevel] = []
        result.reserveCapacity(levels.count)
        for level in levels {
            switch level {
            case .username:
                guard TopicSyntax.canStandAsOneLevel(username) else { return nil }
                result.append(.literal(username))
            case .clientId:
                guard TopicSyntax.canStandAsOneLevel(clientId) else { return nil }
                result.append(.literal(clientId))
            case .literal, .single, .multi:
                result.append(level)
            }
        }
        return TopicFilter(trustedLevels: result)
    }

    /// Does this filter match the topic *name* `topic` (no wildcards in topic)?
    /// A string that is not a valid topic name matches nothing (deny by default).
    public func matches(topic: String, username: String, clientId: String) -> Bool {
        guard TopicName.isValid(topic),
              let filter = substituted(username: username, clientId: clientId)
        else { return false }
        let topicLevels = TopicSyntax.split(topic)

        // §4.7.2: a leading wildcard must not reach into $SYS and friends.
        if filter.levels[0].isWildcard, topicLevels[0].first == TopicSyntax.dollar {
            return false
        }

        var position = 0
        for level in filter.levels {
            switch level {
            case .multi:
                // '#' is always last and also matches the parent level, so whatever is
                // left of the topic (possibly nothing) is matched.
                return true
            case .single:
                guard position < topicLevels.count else { return false }
            case .literal(let literal):
                guard position < topicLevels.count,
                      literal.utf8.elementsEqual(topicLevels[position])
                else { return false }
            case .username, .clientId:
                return false  // removed by `substituted`; never grant on a surprise
            }
            position += 1
        }
        return position == topicLevels.count
    }

    /// Does this filter (a permission) cover `other` (a subscription filter): is every topic that
    /// `other` can match also matched by self?
    ///
    /// Substitutions apply to self only. A %u/%c level in `other` (should it have been parsed
    /// with substitutions allowed) is taken as the literal text "%u"/"%c", as a client's
    /// SUBSCRIBE would be.
    public func covers(_ other: TopicFilter, username: String, clientId: String) -> Bool {
        guard let permission = substituted(username: username, clientId: clientId) else { return false }
        let p = permission.levels
        let f = other.levels

        // A leading '+'/'#' in the permission never matches $ topics, and a subscription
        // starting with a "$..." literal matches only $ topics. (A leading wildcard in the
        // subscription is fine: it can't match $ topics either.)
        if p[0].isWildcard, case .literal(let first) = f[0], first.utf8.first == TopicSyntax.dollar {
            return false
        }

        // Before any '#', both filters consume exactly one topic level per filter level, so
        // they can be walked in lockstep.
        var i = 0
        while true {
            if i < p.count, p[i] == .multi {
                // Matches every continuation of the topic levels so far, including none.
                return true
            }
            if i == p.count || i == f.count {
                // Either f can still produce longer topics than p allows, or f stops where
                // p still needs a level; only equal lengths work.
                return i == p.count && i == f.count
            }
            switch p[i] {
            case .single:
                if f[i] == .multi {
                    // f's '#' also stands for its parent topic, which needs no level here.
                    // That parent is no topic name when it would have no levels (i == 0) or
                    // be "" (after a lone empty first level), and then '+/#' covers '#':
                    // "+/#" covers "#", "/+/#" covers "/#".
                    let parentIsNoTopic = i == 0 || (i == 1 && f[0] == .literal(""))
                    return parentIsNoTopic && i + 1 < p.count && p[i + 1] == .multi
                }
            case .literal(let literal):
                // f must pin this level to exactly the same text.
                guard let fixed = f[i].literalText, literal.utf8.elementsEqual(fixed.utf8) else {
                    return false
                }
            case .multi, .username, .clientId:
                return false  // '#' returned above; substitutions were removed by `substituted`
            }
            i += 1
        }
    }
}

public enum TopicName {
    /// A publish topic: non-empty, ≤ 65535 bytes, no NUL, no + or #.
    public static func validate(_ topic: String) throws(TopicError) {
        try TopicSyntax.checkCommon(topic)
        if topic.utf8.contains(where: { $0 == TopicSyntax.plus || $0 == TopicSyntax.hash }) {
            throw .wildcardInTopicName(topic)
        }
    }

    static func isValid(_ topic: String) -> Bool {
        do {
            try validate(topic)
            return true
        } catch {
            return false
        }
    }
}

/// Byte-level helpers shared by topic names and filters.
enum TopicSyntax {
    static let maxBytes = 65535
    static let slash = UInt8(ascii: "/")
    static let plus = UInt8(ascii: "+")
    static let hash = UInt8(ascii: "#")
    static let dollar = UInt8(ascii: "$")
    static let nul: UInt8 = 0

    /// The rules topic names and filters share: non-empty, at most 65535 bytes, no NUL.
    static func checkCommon(_ text: String) throws(TopicError) {
        let bytes = text.utf8.count
        if bytes == 0 { throw .empty }
        if bytes > maxBytes { throw .tooLong(bytes) }
        if text.utf8.contains(nul) { throw .containsNul }
    }

    /// Splits on '/' keeping empty levels: "a//b" → ["a", "", "b"], "/" → ["", ""].
    /// Splits bytes rather than Characters because "/" followed by a combining mark is a
    /// single Character, yet it still separates levels.
    static func split(_ text: String) -> [Substring.UTF8View] {
        text.utf8.split(separator: slash, maxSplits: .max, omittingEmptySubsequences: false)
    }

    /// Whether a substituted username / client id would form exactly one literal level.
    static func canStandAsOneLevel(_ value: String) -> Bool {
        !value.utf8.isEmpty
            && !value.utf8.contains { $0 == slash || $0 == plus || $0 == hash || $0 == nul }
    }

    /// Quotes text for an error message, escaping control characters and quotes.
    static func quoted(_ text: String) -> String {
        String(reflecting: text)
    }
}
