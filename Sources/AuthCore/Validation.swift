/// Input rules shared by the CLI, the plugin and the server, so all three refuse the same things.
public enum ValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    case username(String, reason: String)
    case roleName(String, reason: String)
    case publishPrefix(String, reason: String)
    case topic(TopicError)
    case password(reason: String)

    public var description: String {
        switch self {
        case let .username(name, reason): return "invalid username \"\(Validation.printable(name))\": \(reason)"
        case let .roleName(name, reason): return "invalid role name \"\(Validation.printable(name))\": \(reason)"
        case let .publishPrefix(prefix, reason): return "invalid publish prefix \"\(Validation.printable(prefix))\": \(reason)"
        case let .topic(error): return error.description
        case let .password(reason): return "invalid password: \(reason)"
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

    public static func validateResource(_ resource: String) throws(ValidationError) {
        do {
            _ = try TopicFilter(validating: resource)
        } catch {
            throw .topic(error)
        }
    }

    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
            return false
        default:
            return true
        }
    }

    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// Error messages echo user input; keep them on one line and free of terminal control codes.
    public static func printable(_ text: String, limit: Int = 80) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            if isPrintable(scalar) && scalar != "\n" && scalar != "\r" {
                out.unicodeScalars.append(scalar)
            } else {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            }
        }
        if text.unicodeScalars.count > limit { out += "…" }
        return out
    }
}
