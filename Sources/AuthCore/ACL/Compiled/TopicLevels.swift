/// What the walk needs to know about one level of the topic / filter being checked.
struct LevelInfo {
    /// Id in `levelNames`, or `EdgeTag.none`.
    var id: UInt32
    var flags: UInt8

    static let equalsUsername: UInt8 = 0x01
    static let equalsClientId: UInt8 = 0x02
    /// Subscription filters only.
    static let plus: UInt8 = 0x04
    static let hash: UInt8 = 0x08
}

/// Room for the level descriptions of a check on the stack, for policies whose filters have at most
/// `capacity` levels before any '#' (nearly all).
struct LevelBuffer {
    static let capacity = 16
    var levels: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                 UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}

/// What `describeLevels` compares each topic level with besides the level table. Two forms, so that
/// the loop for a policy without %u / %c (most) holds no such comparisons, nor registers for them.
protocol LevelMarks {
    /// `LevelInfo.equalsUsername` / `equalsClientId` for the level `level[0..<count]`.
    func flags(_ level: UnsafePointer<UInt8>, _ count: Int) -> UInt8
}

/// No level can stand for the username or client id: the policy has no %u / %c, or the connection's
/// values cannot stand as one level.
struct NoLevelMarks: LevelMarks {
    @inline(__always)
    func flags(_ level: UnsafePointer<UInt8>, _ count: Int) -> UInt8 { 0 }
}

/// The connection's username and client id, each nil when the policy does not use it or it cannot
/// stand as one level.
struct SubstitutionMarks: LevelMarks {
    let username: UnsafeBufferPointer<UInt8>?
    let clientId: UnsafeBufferPointer<UInt8>?

    @inline(__always)
    func flags(_ level: UnsafePointer<UInt8>, _ count: Int) -> UInt8 {
        var flags: UInt8 = 0
        if let username, username.count == count, ByteCompare.equal(level, username.baseAddress, count) {
            flags |= LevelInfo.equalsUsername
        }
        if let clientId, clientId.count == count, ByteCompare.equal(level, clientId.baseAddress, count) {
            flags |= LevelInfo.equalsClientId
        }
        return flags
    }
}

/// What the tokenizer accepts: topic names (publish, delivery), or also the wildcards of a filter
/// (SUBSCRIBE). A type rather than a flag, so that each form gets its own specialised loop.
protocol LevelSyntax {
    static var wildcards: Bool { get }
}

enum TopicNameSyntax: LevelSyntax {
    static var wildcards: Bool { false }
}

enum TopicFilterSyntax: LevelSyntax {
    static var wildcards: Bool { true }
}

/// A described topic or filter: how many levels it has (0: invalid), and what its first byte says
/// about how the walk must start.
struct DescribedLevels {
    var count: Int
    /// The first level starts with '$': a leading '+' or '#' must not match it.
    var dollar: Bool
    /// The first level is empty: '/+/#' covers '/#' as '+/#' covers '#' (`TopicFilter.covers`).
    var firstLevelEmpty: Bool

    static let invalid = DescribedLevels(count: 0, dollar: false, firstLevelEmpty: false)
}

// The one tokenizer of the compiled checks. The reference semantics (Topic.swift) keep a tokenizer
// of their own on purpose: the tests compare the two on random policies and topics, which would not
// catch a tokenizer bug both shared.
/// What describing a topic needs of the compiled ACL: a value of plain pointers, so that the
/// check's closure captures it instead of the `CompiledAcl` (which would be retained and released
/// around every check).
struct TopicDescriber {
    let levelNames: LevelTable
    /// `CompiledAcl.maxDepth`: levels past it are never looked up.
    let maxDepth: Int

    /// Validates `subject` as `Syntax` allows and describes its first `maxDepth` levels into `levels`.
    @inline(__always)
    func describe<Syntax: LevelSyntax>(_ subject: UnsafeBufferPointer<UInt8>, _ syntax: Syntax.Type,
                                       _ marks: SubstitutionMarks, into levels: UnsafeMutablePointer<LevelInfo>) -> DescribedLevels {
        guard subject.count > 0, subject.count <= TopicSyntax.maxBytes, let base = subject.baseAddress else { return .invalid }
        // A policy without %u / %c (most) gets a loop with no such comparisons, nor registers for them.
        let count = marks.username == nil && marks.clientId == nil
            ? describeLevels(base, subject.count, Syntax.self, NoLevelMarks(), into: levels)
            : describeLevels(base, subject.count, Syntax.self, marks, into: levels)
        return DescribedLevels(count: count, dollar: base[0] == TopicSyntax.dollar, firstLevelEmpty: base[0] == TopicSyntax.slash)
    }

    /// `describe` of the publish prefix followed by the topic, copied together first: permissions
    /// are written against the topic the broker will really publish.
    func describe(_ prefix: UnsafeBufferPointer<UInt8>, then topic: UnsafeBufferPointer<UInt8>, _ marks: SubstitutionMarks,
                  into levels: UnsafeMutablePointer<LevelInfo>) -> DescribedLevels {
        let total = prefix.count &+ topic.count
        guard total <= TopicSyntax.maxBytes, let prefixBase = prefix.baseAddress else { return .invalid }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { joined in
            let base = joined.baseAddress.unsafelyUnwrapped
            base.initialize(from: prefixBase, count: prefix.count)
            // The reference checks prefix + topic whatever the topic, so an empty one is no exception.
            if let topicBase = topic.baseAddress { (base + prefix.count).initialize(from: topicBase, count: topic.count) }
            return describe(UnsafeBufferPointer(joined), TopicNameSyntax.self, marks, into: levels)
        }
    }

    /// Splits `base[0..<count]` at '/', validating it (no NUL; '+' and '#' only as whole levels of a
    /// filter, '#' last), and describes its first `maxDepth` levels into `levels`. Returns the number
    /// of levels, or 0 when it is invalid. This and the trie walk are the whole cost of a delivery
    /// check, so it reads a word at a time: a level of at most 16 bytes is found, checked and looked
    /// up from the two words it is read in.
    @inline(__always)
    private func describeLevels<Syntax: LevelSyntax, Marks: LevelMarks>(_ base: UnsafePointer<UInt8>, _ count: Int, _ syntax: Syntax.Type,
                                                                         _ marks: Marks, into levels: UnsafeMutablePointer<LevelInfo>) -> Int {
        var levelCount = 0
        var start = 0
        while true {
            // The level's first two words, read up to its end or its first other byte below 0x30.
            var head = ByteScan.word(base, at: start, count: count)
            var tail: UInt64 = 0
            var stops = ByteScan.below0x30(head)
            var end: Int
            if stops != 0 {
                end = start &+ stops.trailingZeroBitCount &>> 3
                head &= ByteScan.lowBytes(end &- start)
            } else {
                tail = ByteScan.word(base, at: start &+ 8, count: count)
                stops = ByteScan.below0x30(tail)
                end = start &+ (stops == 0 ? 16 : 8 &+ stops.trailingZeroBitCount &>> 3)
                if stops != 0 { tail &= ByteScan.lowBytes(end &- start &- 8) }
            }
            var wildcard: UInt8 = 0
            if end != count && base[end] != TopicSyntax.slash {
                if Syntax.wildcards && end == start && (base[end] == TopicSyntax.plus || base[end] == TopicSyntax.hash) {
                    // A wildcard is its level's only byte, and '#' is the last level.
                    let isHash = base[end] == TopicSyntax.hash
                    end &+= 1
                    guard end == count || (!isHash && base[end] == TopicSyntax.slash) else { return 0 }
                    wildcard = isHash ? LevelInfo.hash : LevelInfo.plus
                } else {
                    // Longer than 16 bytes, or a byte such as '-' or '.' on the way (or an invalid one).
                    end = ByteScan.levelEnd(base, from: end, count: count)
                    if end < 0 { return 0 }
                    (head, tail) = LevelTable.words(base + start, end &- start)
                }
            }
            if levelCount < maxDepth {
                let info = wildcard != 0 ? LevelInfo(id: EdgeTag.none, flags: wildcard)
                    : LevelInfo(id: levelNames.find(head: head, tail: tail, base + start, end &- start),
                                flags: marks.flags(base + start, end &- start))
                (levels + levelCount).initialize(to: info)
            }
            levelCount &+= 1
            if end == count { return levelCount }
            start = end &+ 1
        }
    }
}
