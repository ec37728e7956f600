import Testing
@testable import AuthCore

@Suite struct ValidationTests {
    @Test(arguments: ["a%u/b", "a/%u-x", "%c%u", "site/x%c", "/api/users/%ux"])
    func substitutionsInsideALevelAreRefused(resource: String) {
        #expect(throws: ValidationError.resource(resource, reason: "%u and %c stand only for a whole level (write a/%u/b, not a%u/b)")) {
            try Validation.validateResource(resource)
        }
    }

    @Test(arguments: ["a/%u/b", "%c/#", "100%/x", "a/%/b", "/api/users/%u/#", "x%/y", "%U/%C"])
    func wholeLevelSubstitutionsAndOtherPercentsPass(resource: String) throws {
        try Validation.validateResource(resource)
    }

    @Test(arguments: [("a/\u{1b}[2Jb", "U+001B"), ("bell\u{7}", "U+0007"), ("del\u{7f}/x", "U+007F"), ("c1\u{9b}", "U+009B"),
                      ("tab\t/x", "U+0009")])
    func controlCharactersInResourcesAreRefused(resource: String, code: String) {
        #expect(throws: ValidationError.resource(resource, reason: "may not contain control characters (\(code))")) {
            try Validation.validateResource(resource)
        }
    }

    @Test func controlCharactersInPublishPrefixesAreRefused() {
        #expect(throws: ValidationError.publishPrefix("site\u{1b}/", reason: "may not contain control characters (U+001B)")) {
            try Validation.validatePublishPrefix("site\u{1b}/")
        }
    }

    /// Mosquitto hands the plugin the password as a C string: bytes after a NUL never arrive, so a
    /// stored password with one could be matched by its start alone.
    @Test func asciiIsJudgedAsTheUnicodePropertiesJudgeIt() {
        let unprintable: [Unicode.GeneralCategory] = [.control, .format, .surrogate, .privateUse, .unassigned,
                                                      .lineSeparator, .paragraphSeparator]
        for value in UInt8(0)...0x7F {
            let scalar = Unicode.Scalar(value)
            #expect(Validation.isPrintable(scalar) == !unprintable.contains(scalar.properties.generalCategory), "U+\(value)")
            #expect(Validation.isWhitespace(scalar) == scalar.properties.isWhitespace, "U+\(value)")
        }
        #expect(throws: ValidationError.self) { try Validation.validateUsername("dev\u{85}ice") }  // NEL: whitespace past ASCII
        #expect(throws: ValidationError.self) { try Validation.validateUsername("dev\tice") }
        #expect(throws: Never.self) { try Validation.validateUsername("Gerät-7~") }
    }

    @Test func passwordsWithNulAreRefused() {
        #expect(throws: ValidationError.password(reason: "may not contain NUL")) {
            try Validation.validatePassword("alice-pass\0junk")
        }
    }

    @Test func controlsAreSpelledOutForTheTerminal() {
        #expect(Validation.escapingControls("a/\u{1b}[2J\u{7}b") == "a/\\u{1b}[2J\\u{7}b")
        #expect(Validation.escapingControls("two\nlines\tx", keepLayout: true) == "two\nlines\tx")
        #expect(Validation.escapingControls("two\nlines") == "two\\u{a}lines")
        #expect(Validation.escapingControls("plain é/+") == "plain é/+")
    }
}
