import Testing
@testable import AuthCore

// Reference semantics of MQTT topic names / filters (§4.7) and of permission coverage.
// Faster matchers are tested against these functions, so these tests pin them down hard.

private let alice = "alice"
private let device = "dev-1"

/// Parses a filter that the test knows to be valid.
private func filter(_ text: String, substitutions: Bool = true) -> TopicFilter {
    do {
        return try TopicFilter(validating: text, allowSubstitutions: substitutions)
    } catch {
        Issue.record("\(String(reflecting: text)) should be a valid filter: \(error)")
        return try! TopicFilter(validating: "never/matches/\u{1}")
    }
}

private func filterError(_ text: String, substitutions: Bool = true) -> TopicError? {
    do {
        _ = try TopicFilter(validating: text, allowSubstitutions: substitutions)
        return nil
    } catch {
        return error
    }
}

private func nameError(_ text: String) -> TopicError? {
    do {
        try TopicName.validate(text)
        return nil
    } catch {
        return error
    }
}

@Suite struct TopicTests {

    // MARK: - Parsing into levels

    @Test func levelsAreSplitOnSlashKeepingEmptyLevels() {
        let cases: [(String, [FilterLevel])] = [
            ("a", [.literal("a")]),
            ("a/b", [.literal("a"), .literal("b")]),
            ("a//b", [.literal("a"), .literal(""), .literal("b")]),
            ("/a", [.literal(""), .literal("a")]),
            ("a/", [.literal("a"), .literal("")]),
            ("/", [.literal(""), .literal("")]),
            ("//", [.literal(""), .literal(""), .literal("")]),
            ("+", [.single]),
            ("#", [.multi]),
            ("/#", [.literal(""), .multi]),
            ("+/+", [.single, .single]),
            ("a/+/#", [.literal("a"), .single, .multi]),
            ("devices/%u/%c", [.literal("devices"), .username, .clientId]),
            ("a/x%u/%cy/%%u/%u%c", [.literal("a"), .literal("x%u"), .literal("%cy"), .literal("%%u"), .literal("%u%c")]),
            ("%U/%C", [.literal("%U"), .literal("%C")]),
            ("$SYS/#", [.literal("$SYS"), .multi]),
            // '/' followed by a combining mark is one Character but still two levels.
            ("a/\u{301}b", [.literal("a"), .literal("\u{301}b")]),
        ]
        for (text, levels) in cases {
            let parsed = filter(text)
            #expect(parsed.levels == levels, "\(String(reflecting: text))")
            #expect(parsed.text == text)
            #expect(parsed.description == text)
        }
    }

    @Test func substitutionLevelsAreLiteralWhenNotAllowed() {
        let parsed = filter("devices/%u/%c", substitutions: false)
        #expect(parsed.levels == [.literal("devices"), .literal("%u"), .literal("%c")])
        #expect(!parsed.hasSubstitutions)
    }

    @Test func wildcardAndSubstitutionFlags() {
        let cases: [(String, Bool, Bool)] = [  // text, hasWildcards, hasSubstitutions
            ("a/b", false, false),
            ("a/+", true, false),
            ("a/#", true, false),
            ("#", true, false),
            ("%u/x", false, true),
            ("x/%c", false, true),
            ("%u/+", true, true),
            ("a/x%u", false, false),
        ]
        for (text, wildcards, substitutions) in cases {
            let parsed = filter(text)
            #expect(parsed.hasWildcards == wildcards, "\(text)")
            #expect(parsed.hasSubstitutions == substitutions, "\(text)")
        }
    }

    @Test func equalityIsBytewiseAndSeesSubstitutions() {
        #expect(filter("a/+") == filter("a/+"))
        #expect(filter("a/%u") != filter("a/%u", substitutions: false))
        #expect(filter("a/%u", substitutions: false) == filter("a/%u", substitutions: false))
        // Canonically equivalent but different bytes: different topics in MQTT.
        let composed = filter("caf\u{E9}")
        let decomposed = filter("cafe\u{301}")
        #expect(composed != decomposed)
        #expect(Set([composed, decomposed, filter("caf\u{E9}")]).count == 2)
        #expect(FilterLevel.literal("caf\u{E9}") != FilterLevel.literal("cafe\u{301}"))
    }

    // MARK: - Validation

    @Test func validFilters() {
        let valid = [
            "a", "a/b", "a//b", "/", "//", "/#", "+/+", "+", "#", "a/+/b", "a/#", "+/#",
            "$SYS/#", "$SYS/+/x", "%u", "a/%c/#", "a b/c", "\u{E9}/\u{1F600}", "a/x%u",
            String(repeating: "a", count: 65535),
            String(repeating: "\u{E9}", count: 32767),  // 65534 bytes
        ]
        for text in valid {
            #expect(filterError(text) == nil, "\(String(reflecting: text.prefix(40)))")
            #expect(filterError(text, substitutions: false) == nil)
        }
    }

    @Test func invalidFilters() {
        let long = String(repeating: "a", count: 65536)
        let longMultibyte = String(repeating: "\u{E9}", count: 32768)  // 32768 chars, 65536 bytes
        let invalid: [(String, TopicError)] = [
            ("", .empty),
            ("a/#/b", .misplacedMultiLevelWildcard("a/#/b")),
            ("a#", .misplacedMultiLevelWildcard("a#")),
            ("a/b#", .misplacedMultiLevelWildcard("a/b#")),
            ("#/a", .misplacedMultiLevelWildcard("#/a")),
            ("#/", .misplacedMultiLevelWildcard("#/")),
            ("##", .misplacedMultiLevelWildcard("##")),
            ("#a", .misplacedMultiLevelWildcard("#a")),
            ("a/#/#", .misplacedMultiLevelWildcard("a/#/#")),
            ("+#", .misplacedMultiLevelWildcard("+#")),
            ("a+/b", .misplacedSingleLevelWildcard("a+/b")),
            ("a/b+", .misplacedSingleLevelWildcard("a/b+")),
            ("++", .misplacedSingleLevelWildcard("++")),
            ("+a", .misplacedSingleLevelWildcard("+a")),
            ("a/+b/#", .misplacedSingleLevelWildcard("a/+b/#")),
            ("a\0b", .containsNul),
            ("a/+/\0", .containsNul),
            (long, .tooLong(65536)),
            (longMultibyte, .tooLong(65536)),
        ]
        for (text, expected) in invalid {
            #expect(filterError(text) == expected, "\(String(reflecting: text.prefix(40)))")
            #expect(filterError(text, substitutions: false) == expected)
        }
    }

    @Test func validTopicNames() {
        let valid = [
            "a", "a/b", "a//b", "/", "//", "/a", "a/", "$SYS/broker/uptime", "%u", "a b",
            "\u{E9}", String(repeating: "a", count: 65535),
        ]
        for text in valid {
            #expect(nameError(text) == nil, "\(String(reflecting: text.prefix(40)))")
        }
    }

    @Test func invalidTopicNames() {
        let invalid: [(String, TopicError)] = [
            ("", .empty),
            ("a/+", .wildcardInTopicName("a/+")),
            ("+", .wildcardInTopicName("+")),
            ("#", .wildcardInTopicName("#")),
            ("a/#", .wildcardInTopicName("a/#")),
            ("a/b#", .wildcardInTopicName("a/b#")),
            ("a+b", .wildcardInTopicName("a+b")),
            ("a\0", .containsNul),
            (String(repeating: "a", count: 65536), .tooLong(65536)),
        ]
        for (text, expected) in invalid {
            #expect(nameError(text) == expected, "\(String(reflecting: text.prefix(40)))")
        }
    }

    @Test func errorDescriptionsNameTheOffendingText() {
        let cases: [(TopicError, [String])] = [
            (.misplacedMultiLevelWildcard("a/#/b"), ["\"a/#/b\"", "'#'", "filter"]),
            (.misplacedSingleLevelWildcard("a/b+"), ["\"a/b+\"", "'+'", "filter"]),
            (.wildcardInTopicName("a/+"), ["\"a/+\"", "name"]),
            (.tooLong(70000), ["70000", "65535"]),
            (.empty, ["empty"]),
            (.containsNul, ["NUL"]),
        ]
        for (error, fragments) in cases {
            let text = error.description
            #expect(!text.contains("\n"))
            for fragment in fragments {
                #expect(text.contains(fragment), "\(text) should mention \(fragment)")
            }
        }
        #expect(
            TopicError.misplacedMultiLevelWildcard("a/#/b").description
                == "invalid topic filter \"a/#/b\": '#' must be the last level and alone in it")
        // Quotes and control characters in the offending text are escaped, keeping one line.
        let odd = TopicError.misplacedSingleLevelWildcard("a\"\n+b").description
        #expect(!odd.contains("\n"))
        #expect(odd.contains(#""a\"\n+b""#))
    }

    // MARK: - Matching topic names

    /// (filter, topic, expected) with username "alice" and client id "dev-1".
    static let matchCases: [(String, String, Bool)] = [
        // Literal levels: exact, case-sensitive, byte-wise.
        ("a/b", "a/b", true),
        ("a/b", "a/c", false),
        ("a/b", "a", false),
        ("a/b", "a/b/c", false),
        ("a/b", "A/b", false),
        ("a", "a", true),
        ("a", "ab", false),
        ("caf\u{E9}", "caf\u{E9}", true),
        ("caf\u{E9}", "cafe\u{301}", false),
        ("cafe\u{301}", "caf\u{E9}", false),
        // Empty levels are levels.
        ("a//b", "a//b", true),
        ("a//b", "a/b", false),
        ("/a", "/a", true),
        ("/a", "a", false),
        ("a/", "a/", true),
        ("a/", "a", false),
        ("a", "a/", false),
        ("/", "/", true),
        ("/", "//", false),
        // '+' matches exactly one level, including an empty one.
        ("a/+", "a/b", true),
        ("a/+", "a/", true),
        ("a/+", "a", false),
        ("a/+", "a/b/c", false),
        ("a/+", "a/b/", false),
        ("a/+", "b/a", false),
        ("+", "a", true),
        ("+", "/", false),
        ("+/+", "/", true),
        ("+/+", "a/b", true),
        ("+/+", "a", false),
        ("/+", "/a", true),
        ("/+", "/", true),
        ("+/b", "/b", true),
        ("a/+/c", "a//c", true),
        ("a/+/c", "a/b/c", true),
        ("a/+/c", "a/b/d", false),
        // '#' matches the parent level and any number of child levels.
        ("a/#", "a", true),
        ("a/#", "a/", true),
        ("a/#", "a/b", true),
        ("a/#", "a/b/c", true),
        ("a/#", "a//", true),
        ("a/#", "b", false),
        ("a/#", "ab", false),
        ("a/#", "b/a", false),
        ("a/b/#", "a", false),
        ("a/b/#", "a/b", true),
        ("#", "a", true),
        ("#", "/", true),
        ("#", "a/b/c", true),
        ("/#", "/", true),
        ("/#", "/a/b", true),
        ("/#", "a", false),
        ("+/#", "a", true),
        ("+/#", "a/b/c", true),
        ("a/+/#", "a", false),
        ("a/+/#", "a/b", true),
        ("a/+/#", "a/b/c/d", true),
        // '$' topics are not matched by a leading wildcard.
        ("#", "$SYS/broker/uptime", false),
        ("#", "$SYS", false),
        ("#", "$", false),
        ("+", "$x", false),
        ("+/broker/uptime", "$SYS/broker/uptime", false),
        ("+/monitor", "$SYS/monitor", false),
        ("+/#", "$SYS/monitor", false),
        ("$SYS/#", "$SYS/broker/uptime", true),
        ("$SYS/#", "$SYS", true),
        ("$SYS/+", "$SYS/x", true),
        ("$SYS/monitor", "$SYS/monitor", true),
        ("$SYS/#", "$sys/x", false),
        // ... only the first level counts, and only a leading '$'.
        ("a/+", "a/$x", true),
        ("a/#", "a/$x/y", true),
        ("+/x", "x$/x", true),
        ("#", "/$x", true),
        // Invalid topic names match nothing.
        ("#", "a/+", false),
        ("+", "+", false),
        ("a/+", "a/#", false),
        ("#", "", false),
        ("a", "a\0", false),
        ("#", String(repeating: "a", count: 65536), false),
        // %u / %c substitutions (username alice, client id dev-1).
        ("devices/%u/cmd", "devices/alice/cmd", true),
        ("devices/%u/cmd", "devices/bob/cmd", false),
        ("devices/%u/cmd", "devices/%u/cmd", false),
        ("devices/%u/cmd", "devices/dev-1/cmd", false),
        ("devices/%c/cmd", "devices/dev-1/cmd", true),
        ("devices/%c/cmd", "devices/alice/cmd", false),
        ("%u/%c", "alice/dev-1", true),
        ("%c/%u", "alice/dev-1", false),
        ("%u/#", "alice", true),
        ("%u/#", "alice/x/y", true),
        ("%u/+", "alice/x", true),
        ("%u", "Alice", false),
        // ... only a whole level is a substitution.
        ("a/x%u", "a/x%u", true),
        ("a/x%u", "a/xalice", false),
        ("a/%u%c", "a/%u%c", true),
        ("a/%%u", "a/%%u", true),
        ("%U", "%U", true),
        ("%U", "alice", false),
    ]

    @Test func matchTable() {
        for (filterText, topic, expected) in Self.matchCases {
            let parsed = filter(filterText)
            #expect(
                parsed.matches(topic: topic, username: alice, clientId: device) == expected,
                "\(String(reflecting: filterText)) vs \(String(reflecting: topic.prefix(40)))")
        }
    }

    @Test func substitutionValuesThatCannotBeOneLevelMatchNothing() {
        let bad = ["", "a/b", "/", "a+", "+", "a#", "#", "a\0b"]
        for value in bad {
            let who = String(reflecting: value)
            // A filter that uses the bad value matches nothing, not even the "obvious" topic.
            #expect(!filter("devices/%u/cmd").matches(topic: "devices/\(value)/cmd", username: value, clientId: device), "\(who)")
            #expect(!filter("devices/%u/#").matches(topic: "devices/a/b/cmd", username: value, clientId: device), "\(who)")
            #expect(!filter("%u").matches(topic: "x", username: value, clientId: device), "\(who)")
            #expect(!filter("%c/#").matches(topic: "x/y", username: alice, clientId: value), "\(who)")
            #expect(filter("devices/%u/cmd").substituted(username: value, clientId: device) == nil, "\(who)")
            #expect(filter("devices/%c/cmd").substituted(username: alice, clientId: value) == nil, "\(who)")
            // ... but only the values a filter actually uses matter.
            #expect(filter("devices/%c/cmd").matches(topic: "devices/dev-1/cmd", username: value, clientId: device), "\(who)")
            #expect(filter("devices/%u/cmd").matches(topic: "devices/alice/cmd", username: alice, clientId: value), "\(who)")
            #expect(filter("#").matches(topic: "x", username: value, clientId: value), "\(who)")
            #expect(filter("a/x%u").matches(topic: "a/x%u", username: value, clientId: value), "\(who)")
        }
    }

    @Test func substitutionValuesAreLiteralText() {
        // A '$' value is a literal level, not subject to the leading-wildcard rule.
        #expect(filter("%u/in").matches(topic: "$x/in", username: "$x", clientId: device))
        // Substitution is not recursive.
        #expect(filter("%u/x").matches(topic: "%c/x", username: "%c", clientId: device))
        #expect(!filter("%u/x").matches(topic: "dev-1/x", username: "%c", clientId: device))
        // Spaces, '%', and non-ASCII values are fine.
        #expect(filter("u/%u").matches(topic: "u/a b%\u{E9}", username: "a b%\u{E9}", clientId: device))
        #expect(!filter("u/%u").matches(topic: "u/cafe\u{301}", username: "caf\u{E9}", clientId: device))
    }

    @Test func substitutedFilter() throws {
        let sub = try #require(filter("devices/%u/%c/#").substituted(username: alice, clientId: device))
        #expect(sub.text == "devices/alice/dev-1/#")
        #expect(sub.levels == [.literal("devices"), .literal("alice"), .literal("dev-1"), .multi])
        #expect(!sub.hasSubstitutions)
        #expect(sub.hasWildcards)

        // No substitutions: the filter itself, whatever the values.
        let plain = filter("a/+")
        #expect(plain.substituted(username: "", clientId: "/") == plain)
        let literal = filter("a/%u", substitutions: false)
        #expect(literal.substituted(username: "", clientId: "") == literal)

        // A long client id can make a filter longer than any topic; it must still work.
        let longId = String(repeating: "c", count: 65535)
        let long = try #require(filter("%c/#").substituted(username: alice, clientId: longId))
        #expect(long.text.utf8.count == 65537)
        #expect(filter("%c/#").matches(topic: longId, username: alice, clientId: longId))
    }

    // MARK: - Coverage of subscription filters by permissions

    /// (P, F, expected): does permission P cover subscription F? F is parsed as a client's
    /// SUBSCRIBE filter (no substitutions); username "alice", client id "dev-1".
    static let coverCases: [(String, String, Bool)] = [
        // F = "a/+"
        ("a/#", "a/+", true),
        ("+/+", "a/+", true),
        ("a/+", "a/+", true),
        ("#", "a/+", true),
        ("+/#", "a/+", true),
        ("a/b", "a/+", false),
        ("a", "a/+", false),
        ("a/+/#", "a/+", true),
        ("a/+/+", "a/+", false),
        ("b/#", "a/+", false),
        // F = "a/#"
        ("a/#", "a/#", true),
        ("#", "a/#", true),
        ("+/#", "a/#", true),
        ("a/+/#", "a/#", false),
        ("a/+", "a/#", false),
        ("a", "a/#", false),
        ("a/b/#", "a/#", false),
        ("+", "a/#", false),
        // F = "a/b"
        ("a/b", "a/b", true),
        ("a/+", "a/b", true),
        ("a/#", "a/b", true),
        ("#", "a/b", true),
        ("+/b", "a/b", true),
        ("+/+", "a/b", true),
        ("a/b/#", "a/b", true),
        ("+/+/#", "a/b", true),
        ("a/c", "a/b", false),
        ("a", "a/b", false),
        ("a/b/c", "a/b", false),
        ("a/b/+", "a/b", false),
        ("+", "a/b", false),
        ("b/#", "a/b", false),
        ("A/b", "a/b", false),
        // F with fewer levels than P.
        ("a/#", "a", true),
        ("a/+", "a", false),
        ("a/+/#", "a", false),
        ("+/#", "a", true),
        // F = "#" is covered only by P = "#" and the equivalent "+/#" (every topic name has a
        // first level; '#' matching "its parent" adds no topic at position 0).
        ("#", "#", true),
        ("+/#", "#", true),
        ("+/+/#", "#", false),
        ("+/+", "#", false),
        ("/+/#", "/#", true),
        ("+/+/#", "/#", true),
        ("/+/#", "+/#", false),
        ("+/+/#", "+/#", false),
        ("//+/#", "//#", false),
        ("a/#", "#", false),
        ("+", "#", false),
        ("+/+", "#", false),
        ("$SYS/#", "#", false),
        // F = "+"
        ("+", "+", true),
        ("#", "+", true),
        ("+/#", "+", true),
        ("a", "+", false),
        ("+/+", "+", false),
        // '$' topics and leading wildcards.
        ("+/x", "$SYS/x", false),
        ("#", "$SYS/x", false),
        ("#", "$SYS", false),
        ("+/#", "$SYS", false),
        ("+", "$SYS", false),
        ("$SYS/#", "$SYS/x", true),
        ("$SYS/#", "$SYS/#", true),
        ("$SYS/+", "$SYS/x", true),
        ("$SYS/x", "$SYS/x", true),
        ("a/+", "a/$x", true),
        ("a/#", "a/$x/y", true),
        ("#", "x$/y", true),
        // F's leading '+' / '#' can't match '$' topics either.
        ("+/x", "+/x", true),
        ("#", "+/x", true),
        ("+/#", "+/x", true),
        ("+/+", "+/x", true),
        ("$SYS/#", "+/x", false),
        ("$SYS/x", "+/x", false),
        ("a/x", "+/x", false),
        ("#", "+/#", true),
        ("+/#", "+/#", true),
        ("+/+", "+/#", false),
        // Empty levels.
        ("a//b", "a//b", true),
        ("a/+/b", "a//b", true),
        ("a//b", "a/+/b", false),
        ("a/b", "a//b", false),
        ("/#", "/", true),
        ("/#", "/+", true),
        ("+/+", "/", true),
        ("/+", "/a", true),
        ("/+", "/+", true),
        ("+", "/", false),
        ("/", "/", true),
        ("/", "//", false),
        // Byte-wise literals.
        ("caf\u{E9}", "cafe\u{301}", false),
        ("caf\u{E9}/#", "caf\u{E9}/+", true),
        // Substitutions apply to P only: F's "%u" is literal text.
        ("devices/%u/#", "devices/alice/cmd", true),
        ("devices/%u/#", "devices/alice/#", true),
        ("devices/%u/#", "devices/bob/cmd", false),
        ("devices/%u/#", "devices/+/cmd", false),
        ("devices/%u/#", "devices/%u/cmd", false),
        ("devices/%u/+", "devices/alice/x", true),
        ("devices/%c", "devices/dev-1", true),
        ("devices/%c", "devices/alice", false),
        ("%u/%c/#", "alice/dev-1/x", true),
        ("devices/+/x", "devices/%u/x", true),
        ("devices/%%u/x", "devices/%%u/x", true),
    ]

    @Test func coverTable() {
        for (p, f, expected) in Self.coverCases {
            let permission = filter(p)
            let subscription = filter(f, substitutions: false)
            #expect(
                permission.covers(subscription, username: alice, clientId: device) == expected,
                "\(String(reflecting: p)) covers \(String(reflecting: f))")
        }
    }

    @Test func coverWithUnusableSubstitutionValues() {
        for value in ["", "a/b", "+", "#", "a\0"] {
            let who = String(reflecting: value)
            #expect(!filter("devices/%u/#").covers(filter("devices/a/b/x", substitutions: false), username: value, clientId: device), "\(who)")
            #expect(!filter("%u/#").covers(filter("#", substitutions: false), username: value, clientId: device), "\(who)")
            #expect(!filter("a/%c").covers(filter("a/+", substitutions: false), username: alice, clientId: value), "\(who)")
            #expect(filter("a/%c").covers(filter("a/dev-1", substitutions: false), username: value, clientId: device), "\(who)")
            #expect(filter("#").covers(filter("a/+", substitutions: false), username: value, clientId: value), "\(who)")
        }
        // With the odd value "%u", P's "%u" becomes the literal that F's "%u" spells.
        #expect(filter("d/%u").covers(filter("d/%u", substitutions: false), username: "%u", clientId: device))
    }

    @Test func coverTreatsSubstitutionsInTheSubscriptionAsLiteralText() {
        // Should F have been parsed with substitutions allowed, it still means the text "%u".
        let f = filter("a/%u")
        #expect(!filter("a/%u").covers(f, username: alice, clientId: device))
        #expect(filter("a/%u").covers(f, username: "%u", clientId: device))
        #expect(filter("a/+").covers(f, username: alice, clientId: device))
        #expect(filter("a/%u", substitutions: false).covers(f, username: alice, clientId: device))
    }

    // MARK: - Properties

    /// Exhaustive over small filters: covers(P, F) is exactly "every topic F matches, P
    /// matches", and covering a topic-as-filter is the same as matching the topic.
    ///
    /// Topics of up to 4 levels over the filters' literals plus one fresh level "z" suffice:
    /// with filters of at most 3 levels, any topic in F \ P can be cut to 4 levels and have
    /// its other levels renamed to "z" and stay in F \ P.
    @Test func coverIsExactlyTopicSetInclusionForSmallFilters() {
        // "$x" only matters as a first level (elsewhere it is one more literal), and "%u"
        // (username "b") works the same at every level, so both stay in the first level only
        // to keep the enumeration small.
        let firstLiterals = ["a", "b", "", "$x"]
        let laterLiterals = ["a", "b", ""]
        let username = "b"

        /// All '/'-joined sequences of 1...3 (or 1...4) levels, dropping "" (not a topic).
        func sequences(levels: Int, first: [String], later: [String], last: [String] = []) -> [String] {
            var result: [String] = []
            var prefixes: [[String]] = [[]]
            for depth in 0..<levels {
                let choices = depth == 0 ? first : later
                result += prefixes.flatMap { prefix in (choices + last).map { (prefix + [$0]).joined(separator: "/") } }
                prefixes = prefixes.flatMap { prefix in choices.map { prefix + [$0] } }
            }
            return result.filter { !$0.isEmpty }
        }
        let topics = sequences(levels: 4, first: firstLiterals + ["z"], later: laterLiterals + ["z"])
        let subscriptions = sequences(
            levels: 3, first: firstLiterals + ["+"], later: laterLiterals + ["+"], last: ["#"]
        ).map { filter($0, substitutions: false) }
        let permissions = sequences(
            levels: 3, first: firstLiterals + ["+", "%u"], later: laterLiterals + ["+"], last: ["#"]
        ).map { filter($0) }

        // Topic sets as bitsets over `topics`.
        func topicSet(_ f: TopicFilter) -> [UInt64] {
            var bits = [UInt64](repeating: 0, count: (topics.count + 63) / 64)
            for (index, topic) in topics.enumerated()
            where f.matches(topic: topic, username: username, clientId: device) {
                bits[index / 64] |= 1 << UInt64(index % 64)
            }
            return bits
        }
        let subscriptionSets = subscriptions.map(topicSet)
        let permissionSets = permissions.map(topicSet)

        var mismatches: [String] = []
        var coveredPairs = 0
        for (p, pSet) in zip(permissions, permissionSets) {
            for (f, fSet) in zip(subscriptions, subscriptionSets) {
                let inclusion = zip(fSet, pSet).allSatisfy { $0 & ~$1 == 0 }
                let covered = p.covers(f, username: username, clientId: device)
                if covered { coveredPairs += 1 }
                if covered != inclusion, mismatches.count < 20 {
                    mismatches.append("\(p) covers \(f): \(covered), topic sets say \(inclusion)")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        #expect(coveredPairs > 1000)

        // A topic name used as a filter has exactly one topic, so covering it is matching it.
        let topicFilters = topics.map { filter($0, substitutions: false) }
        mismatches = []
        for (p, pSet) in zip(permissions, permissionSets) {
            for (index, asFilter) in topicFilters.enumerated() {
                let matched = pSet[index / 64] & (1 << UInt64(index % 64)) != 0
                let covered = p.covers(asFilter, username: username, clientId: device)
                if matched != covered, mismatches.count < 20 {
                    mismatches.append("\(p) vs \(asFilter): matches \(matched), covers \(covered)")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    /// Random, deeper filters: whenever covers(P, F) holds, P matches every concrete topic
    /// obtained by instantiating F's wildcards that F itself matches.
    @Test func coverIsSoundOnRandomFilters() {
        var rng = SplitMix64(seed: 0x5EED_C0DE_2024)
        let literals = ["a", "b", "", "$x"]
        let fills = literals + ["z", "$y", "%u"]
        let values = ["a", "b", "$x", "%u", "", "a/b", "+"]

        func randomFilter(substitutions: Bool) -> String {
            let count = rng.below(5) + 1
            var levels: [String] = []
            for index in 0..<count {
                var choices = literals + ["+"]
                if substitutions { choices += ["%u", "%c"] } else { choices += ["%u"] }
                if index == count - 1 { choices += ["#", "#"] }
                levels.append(rng.pick(choices))
            }
            let text = levels.joined(separator: "/")
            return text.isEmpty ? randomFilter(substitutions: substitutions) : text
        }

        func instance(of f: TopicFilter) -> String {
            var levels: [String] = []
            for level in f.levels {
                switch level {
                case .single: levels.append(rng.pick(fills))
                case .multi: for _ in 0..<rng.below(4) { levels.append(rng.pick(fills)) }
                case .literal, .username, .clientId: levels.append(level.spelling)
                }
            }
            return levels.joined(separator: "/")
        }

        var coveredPairs = 0
        var checkedTopics = 0
        var failures: [String] = []
        for _ in 0..<3000 {
            let p = filter(randomFilter(substitutions: true))
            let f = filter(randomFilter(substitutions: false), substitutions: false)
            let username = rng.pick(values)
            let clientId = rng.pick(values)
            guard p.covers(f, username: username, clientId: clientId) else { continue }
            coveredPairs += 1
            for _ in 0..<20 {
                let topic = instance(of: f)
                guard f.matches(topic: topic, username: username, clientId: clientId) else { continue }
                checkedTopics += 1
                if !p.matches(topic: topic, username: username, clientId: clientId), failures.count < 20 {
                    failures.append("\(p) covers \(f) (u=\(username), c=\(clientId)) but not \(topic)")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        // Keep the property from passing vacuously.
        #expect(coveredPairs > 100)
        #expect(checkedTopics > 1000)
    }
}

/// Tiny deterministic PRNG (SplitMix64) so the property tests are reproducible.
private struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform enough in 0..<bound for test purposes (bound is tiny).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }
}
