/// Input rules shared by the CLI, the plugin and the server, so all three refuse the same things.
public enum ValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    case username(String, reason: String)
    case roleName(String, reason: String)
    case publishPrefix(String, reason: String)
    case topic(TopicError)
    case password(reason: String)
    case resource(String, reason: String)

    public var description: String {
        switch self {
        case let .username(name, reason): return "invalid username \"\(Validation.printable(name))\": \(reason)"
        case let .roleName(name, reason): return "invalid role name \"\(Validation.printable(name))\": \(reason)"
        case let .publishPrefix(prefix, reason): return "invalid publish prefix \"\(Validation.printable(prefix))\": \(reason)"
        case let .topic(error): return error.description
        case let .password(reason): return "invalid password: \(reason)"
        case let .resource(text, reason): return "invalid permission resource \"\(Validation.printable(text))\": \(reason)"
        }
    }
}

public enum Validation {
    public static let usernameLength = 3...256
    public static let roleNameLength = 1...128
    public static let minimumPasswordLength = 5

    /// Usernames become topic levels through `%u`, so they may not contain MQTT's separators or wildcards.
    public static func validateUsername(_ name: String) throws(ValidationError) {
        let count = name.unicodeScalars.count
        guard usernameLength.contains(count) else {
            throw .username(name, reason: "must be \(usernameLength.lowerBound) to \(usernameLength.upperBound) characters")
        }
        for scalar in name.unicodeScalars {
            if scalar == "+" || scalar == "#" || scalar == "/" {
                throw .username(name, reason: "may not contain '+', '#' or '/'")
            }
            if !isPrintable(scalar) || isWhitespace(scalar) {
                throw .username(name, reason: "may contain only printable characters and no whitespace")
            }
        }
    }

    public static func validateRoleName(_ name: String) throws(ValidationError) {
        guard roleNameLength.contains(name.unicodeScalars.count) else {
            throw .roleName(name, reason: "must be \(roleNameLength.lowerBound) to \(roleNameLength.upperBound) characters")
        }
        for scalar in name.unicodeScalars where !isPrintable(scalar) || isWhitespace(scalar) {
            _ = scalar
            throw .roleName(name, reason: "may contain only printable characters and no whitespace")
        }
    }

    /// The prefix is glued in front of every topic the user publishes, so it must keep the result a valid topic name.
    public static func validatePublishPrefix(_ prefix: String) throws(ValidationError) {
        if prefix.isEmpty { throw .publishPrefix(prefix, reason: "must not be empty") }
        if let control = firstControl(prefix) {
            throw .publishPrefix(prefix, reason: "may not contain control characters (\(control))")
        }
        do {
            try TopicName.validate(prefix)
        } catch {
            throw .publishPrefix(prefix, reason: "must be a topic name without '+', '#' or NUL")
        }
    }

    public static func validatePassword(_ password: String) throws(ValidationError) {
        if password.unicodeScalars.count < minimumPasswordLength {
            throw .password(reason: "must be at least \(minimumPasswordLength) characters")
        }
        if password.utf8.contains(0) { throw .password(reason: "may not contain NUL") }
    }

    /// MQTT allows control characters in topics, but in a permission they are a typo or a trick:
    /// printed raw they rewrite the operator's terminal. `%u`/`%c` stand only for a whole level, so
    /// `a%u/b` is refused rather than stored as the literal text it would match.
    public static func validateResource(_ resource: String) throws(ValidationError) {
        let filter: TopicFilter
        do {
            filter = try TopicFilter(validating: resource)
        } catch {
            throw .topic(error)
        }
        if let control = firstControl(resource) {
            throw .resource(resource, reason: "may not contain control characters (\(control))")
        }
        for case let .literal(text) in filter.levels where contains(text, "%u") || contains(text, "%c") {
            throw .resource(resource, reason: "%u and %c stand only for a whole level (write a/%u/b, not a%u/b)")
        }
    }

    /// The first C0/C1 control character or DEL, spelled `U+001B`.
    static func firstControl(_ text: String) -> String? {
        guard let scalar = text.unicodeScalars.first(where: isControl) else { return nil }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// Byte for byte, as MQTT compares topics (a `%u` followed by a combining mark still counts).
    private static func contains(_ text: String, _ needle: String) -> Bool {
        text.utf8.firstRange(of: needle.utf8) != nil
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
    }

    /// ASCII is answered without the Unicode property tables: the broker checks the username of
    /// every unknown client's CONNECT while the registry window is open.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar.value >= 0x20 && scalar.value != 0x7F }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
            return false
        default:
            return true
        }
    }

    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value) }
        return scalar.properties.isWhitespace
    }

    /// Text for a terminal: control characters (ESC, BEL, CR, DEL, C1) spelled `\u{1b}`, so stored
    /// data written before they were refused cannot rewrite the operator's screen. Newlines and
    /// tabs stay when `keepLayout` (a multi-line message of our own).
    public static func escapingControls(_ text: String, keepLayout: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        return spelledOut(text) { isControl($0) && !(keepLayout && ($0 == "\n" || $0 == "\t")) }
    }

    /// Error messages echo user input; keep them on one line and free of terminal control codes.
    public static func printable(_ text: String, limit: Int = 80) -> String {
        spelledOut(text, limit: limit) { !isPrintable($0) || $0 == "\n" || $0 == "\r" }
    }

    /// `text` with each scalar `escape` picks spelled `\u{1b}`; past `limit` scalars cut, and `…`.
    private static func spelledOut(_ text: String, limit: Int = .max, escape: (Unicode.Scalar) -> Bool) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            if escape(scalar) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        if text.unicodeScalars.count > limit { out += "…" }
        return out
    }
}
