import Foundation
import Testing
@testable import AuthCore

// Password hashing: Base64 as mosquitto_passwd writes it, the $7$ (PBKDF2-SHA512) and legacy $6$
// formats, interop with the real mosquitto_passwd binary, and the cost of one verification.

// Produced once with `mosquitto_passwd -b -c FILE user 'pass word!'` (mosquitto 2.0.11).
private let mosquittoVector7 =
    "$7$101$x9GV1F4tBTWhL9fU$yPIEXs3eKZzCWL5CE0AsLFO1HH0e5ShTF6NDmqX6D5CNsdKI5MvOZZUVuNF8j+ZOCEvFgg4sZ5lCT5NDKnQD4Q=="
// python3: salt = b"0123456789abcdef"; "$6$" + b64(salt) + "$" + b64(sha512(b"pass word!" + salt).digest())
private let vector6 =
    "$6$MDEyMzQ1Njc4OWFiY2RlZg==$sW9KR6flqC4NKQU5fTdT/c2tZ0Jvtt6aF4V/thBzpm0pL9bKI6EvJuhdPd4Bm0bR0R1Hs50CvEyrQdaEoGS9Sw=="
private let mosquittoPasswd = "/usr/bin/mosquitto_passwd"

private func parseError(_ text: String) -> PasswordHashError? {
    do {
        _ = try PasswordHash(parsing: text)
        return nil
    } catch {
        return error
    }
}

private func isMalformed(_ error: PasswordHashError?) -> Bool {
    if case .malformed = error { return true }
    return false
}

// Nested under PasswordHashTests so `swift test --filter PasswordHashTests` runs all of them.
extension PasswordHashTests {
    @Suite struct Base64Coding {
        @Test func knownVectors() {
            // RFC 4648 §10.
            let vectors: [(String, String)] = [
                ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
                ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
            ]
            for (plain, encoded) in vectors {
                #expect(Base64.encode(Array(plain.utf8)) == encoded)
                #expect(Base64.decode(encoded) == Array(plain.utf8))
            }
            #expect(Base64.encode([0xFB, 0xFF, 0xBF]) == "+/+/")
            #expect(Base64.decode("+/+/") == [0xFB, 0xFF, 0xBF])
            #expect(Base64.encode([0, 0, 0]) == "AAAA")
        }

        @Test func roundTripsEveryShortLengthAndAllByteValues() {
            for count in 0...3 {
                for seed in 0..<256 {
                    let bytes = (0..<count).map { UInt8(truncatingIfNeeded: seed &* 31 &+ $0 &* 97) }
                    let text = Base64.encode(bytes)
                    #expect(text.utf8.count == (count + 2) / 3 * 4)
                    #expect(Base64.decode(text) == bytes)
                }
            }
            let all = (0...255).map { UInt8($0) }
            for count in [4, 5, 16, 64, 255, 256] {
                #expect(Base64.decode(Base64.encode(Array(all.prefix(count)))) == Array(all.prefix(count)))
            }
            let random = Crypto.randomBytes(1000)
            #expect(Base64.decode(Base64.encode(random)) == random)
        }

        @Test func rejectsGarbage() {
            let bad = [
                "Z", "Zg", "Zg=", "Zm9vY", // length not a multiple of 4
                "Zg==Zg==", "Z===", "====", "=Zg=", "Zm=v", "Zg=a", // padding in the wrong place
                "Zm9v\n", " Zm9v", "Zm 9v", "Zm9-", "Zm9_", "Zm9*", "Zm9é", "Zm9\0", // bad characters
            ]
            for text in bad {
                #expect(Base64.decode(text) == nil, "\(String(reflecting: text)) should be rejected")
            }
        }
    }
}

@Suite struct PasswordHashTests {
    @Test func makeEncodeParseVerify() throws {
        let made = PasswordHash.make(password: "correct horse", iterations: 1_000)
        #expect(made.algorithm == .pbkdf2SHA512)
        #expect(made.iterations == 1_000)
        #expect(made.salt.count == 16)
        #expect(made.hash.count == 64)
        #expect(made.encoded.hasPrefix("$7$1000$"))
        let parsed = try PasswordHash(parsing: made.encoded)
        #expect(parsed == made)
        #expect(parsed.encoded == made.encoded)
        #expect(parsed.verify("correct horse"))
        #expect(!parsed.verify("correct horsE"))
        #expect(!parsed.verify("correct horse "))
        #expect(!parsed.verify(""))
    }

    @Test func defaultIterationsAreUsed() {
        let made = PasswordHash.make(password: "x")
        #expect(made.iterations == PasswordHash.defaultIterations)
        #expect(PasswordHash.iterationRange.contains(PasswordHash.defaultIterations))
        #expect(made.verify("x"))
    }

    @Test func saltIsRandom() {
        let a = PasswordHash.make(password: "same", iterations: 10)
        let b = PasswordHash.make(password: "same", iterations: 10)
        #expect(a.salt != b.salt)
        #expect(a.hash != b.hash)
        #expect(a.encoded != b.encoded)
        #expect(a.verify("same") && b.verify("same"))
    }

    @Test func emptyAndUnicodePasswords() {
        let empty = PasswordHash.make(password: "", iterations: 10)
        #expect(empty.verify(""))
        #expect(!empty.verify(" "))
        let unicode = PasswordHash.make(password: "pässwörd 🔑", iterations: 10)
        #expect(unicode.verify("pässwörd 🔑"))
        #expect(!unicode.verify("passwort 🔑"))
    }

    @Test func realMosquittoPasswdHash() throws {
        guard FileManager.default.isExecutableFile(atPath: mosquittoPasswd) else {
            Issue.record("\(mosquittoPasswd) is missing: run scripts/install-deps.sh")
            return
        }
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("cwauth-pw-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("passwd")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: mosquittoPasswd)
        process.arguments = ["-b", "-c", file.path, "user", "pass word!"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0,
                     "mosquitto_passwd exited with \(process.terminationStatus): run scripts/install-deps.sh")

        let contents = try String(contentsOf: file, encoding: .utf8)
        let line = try #require(contents.split(separator: "\n").first.map(String.init))
        #expect(line.hasPrefix("user:$7$"))
        let encoded = String(line.dropFirst("user:".count))
        let hash = try PasswordHash(parsing: encoded)
        #expect(hash.algorithm == .pbkdf2SHA512)
        #expect(hash.hash.count == 64)
        #expect(hash.encoded == encoded) // mosquitto's text is already canonical
        #expect(hash.verify("pass word!"))
        #expect(!hash.verify("wrong"))
    }

    @Test func fixedVector7() throws {
        let hash = try PasswordHash(parsing: mosquittoVector7)
        #expect(hash.algorithm == .pbkdf2SHA512)
        #expect(hash.iterations == 101)
        #expect(hash.salt.count == 12)
        #expect(hash.hash.count == 64)
        #expect(hash.encoded == mosquittoVector7)
        #expect(hash.verify("pass word!"))
        #expect(!hash.verify("pass word"))
        #expect(!hash.verify("wrong"))
    }

    @Test func hashLengthFollowsTheStoredHash() throws {
        // PBKDF2 derives as many bytes as stored: the first 32 bytes of the 64-byte vector verify too.
        let full = try PasswordHash(parsing: mosquittoVector7)
        let short = try PasswordHash(algorithm: .pbkdf2SHA512, iterations: 101, salt: full.salt,
                                     hash: Array(full.hash.prefix(32)))
        #expect(try PasswordHash(parsing: short.encoded) == short)
        #expect(short.verify("pass word!"))
        #expect(!short.verify("wrong"))
    }

    @Test func fixedVector6() throws {
        let hash = try PasswordHash(parsing: vector6)
        #expect(hash.algorithm == .sha512)
        #expect(hash.iterations == 1)
        #expect(hash.salt == Array("0123456789abcdef".utf8))
        #expect(hash.encoded == vector6)
        #expect(hash.verify("pass word!"))
        #expect(!hash.verify("wrong"))
        #expect(!hash.verify(""))
    }

    @Test func malformedInputs() {
        let salt = Base64.encode(Array(repeating: 7, count: 12))
        let hash = Base64.encode(Array(repeating: 9, count: 64))
        let malformed = [
            "", "$", "$$", "$7$", "$7", "7$101$\(salt)$\(hash)", "abc",
            "$7$abc$x$y", "$7$$\(salt)$\(hash)", "$7$-5$\(salt)$\(hash)", "$7$+5$\(salt)$\(hash)",
            "$7$ 101$\(salt)$\(hash)", "$7$101$\(salt)", "$7$101$\(salt)$\(hash)$",
            "$7$101$$\(hash)", "$7$101$\(salt)$", "$7$101$not*base64$\(hash)", "$7$101$\(salt)$Zg=",
            " $7$101$\(salt)$\(hash)", "$7$101$\(salt)$\(hash)\n",
            "$6$", "$6$\(salt)", "$6$\(salt)$\(Base64.encode([1, 2, 3]))", "$6$$\(hash)",
            "$6$101$\(salt)$\(hash)",
        ]
        for text in malformed {
            let error = parseError(text)
            #expect(isMalformed(error), "\(String(reflecting: text)) gave \(String(describing: error))")
        }
        #expect(parseError("$9$a$b") == .unsupportedAlgorithm("$9$"))
        #expect(parseError("$2b$10$abcdefghijklmnopqrstuv") == .unsupportedAlgorithm("$2b$"))
        #expect(parseError("$S3cret-Passw0rd!$x") == .unsupportedAlgorithm("unknown"))
        #expect(parseError("$7$0$\(salt)$\(hash)") == .iterationsOutOfRange(0))
        #expect(parseError("$7$20001$\(salt)$\(hash)") == .iterationsOutOfRange(20_001))
        #expect(parseError("$7$10000000$\(salt)$\(hash)") == .iterationsOutOfRange(10_000_000))
        #expect(parseError("$7$99999999999999999999999$\(salt)$\(hash)") == .iterationsOutOfRange(Int.max))
        #expect((try? PasswordHash(parsing: "$7$20000$\(salt)$\(hash)")) != nil)
        #expect((try? PasswordHash(parsing: "$7$1$\(salt)$\(hash)")) != nil)
    }

    /// One CONNECT naming a user makes the broker verify that user's hash: its cost has a ceiling.
    @Test func costlyHashesAreRefused() {
        let salt64 = Base64.encode([UInt8](repeating: 7, count: 64))
        let hash64 = Base64.encode([UInt8](repeating: 9, count: 64))
        #expect((try? PasswordHash(parsing: "$7$101$\(salt64)$\(hash64)")) != nil)
        let longSalt = Base64.encode([UInt8](repeating: 7, count: 65))
        let longHash = Base64.encode([UInt8](repeating: 9, count: 65))
        #expect(isMalformed(parseError("$7$101$\(longSalt)$\(hash64)")))
        #expect(isMalformed(parseError("$7$101$\(salt64)$\(longHash)")))
        #expect(parseError("$7$20001$\(salt64)$\(hash64)")?.description == "password hash iteration count 20001 outside 1...20000")
    }

    @Test func errorDescriptionsNeverEchoTheInput() {
        let secret = "hunter2-Secret"
        for text in [secret, "$\(secret)", "$7$\(secret)$a$b", "$7$1$\(secret)$\(secret)", "$6$\(secret)"] {
            guard let error = parseError(text) else {
                Issue.record("\(text) should not parse")
                continue
            }
            #expect(!error.description.contains("hunter2"), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func verifyPasswordBytesAgreesWithVerifyString() throws {
        let hashes = [
            try PasswordHash(parsing: mosquittoVector7),
            try PasswordHash(parsing: vector6),
            PasswordHash.make(password: "pass word!", iterations: 10),
        ]
        for hash in hashes {
            for candidate in ["pass word!", "wrong", "", "pass word!!", "päss"] {
                // As the broker gets it: a NUL-terminated C string.
                let viaBytes = candidate.withCString { cString in
                    let length = strlen(cString)
                    return cString.withMemoryRebound(to: UInt8.self, capacity: length + 1) {
                        hash.verify(passwordBytes: UnsafeBufferPointer(start: $0, count: length))
                    }
                }
                #expect(viaBytes == hash.verify(candidate), "\(candidate)")
                #expect(viaBytes == (candidate == "pass word!"))
            }
            #expect(!hash.verify(passwordBytes: UnsafeBufferPointer(start: nil, count: 0)))
        }
    }

    @Test func makeClampsIterations() {
        #expect(PasswordHash.make(password: "x", iterations: 0).iterations == 1)
        #expect(PasswordHash.make(password: "x", iterations: -3).iterations == 1)
    }

    @Test func timingOfOneDefaultVerification() {
        let hash = PasswordHash.make(password: "pass word!")
        _ = hash.verify("pass word!") // warm up
        let rounds = 20
        let elapsed = ContinuousClock().measure {
            for _ in 0..<rounds { _ = hash.verify("pass word!") }
        }
        let totalMs = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
        print("PasswordHash: one verification at defaultIterations=\(PasswordHash.defaultIterations) "
              + "took \(totalMs / Double(rounds)) ms (mean of \(rounds))")
    }
}

extension PasswordHashTests {
    @Suite struct CryptoPrimitives {
        @Test func randomBytes() {
            #expect(Crypto.randomBytes(0).isEmpty)
            let a = Crypto.randomBytes(32), b = Crypto.randomBytes(32)
            #expect(a.count == 32 && b.count == 32 && a != b)
        }

        @Test func hmacSHA256KnownVectors() {
            // RFC 4231 test case 2.
            let mac = Array("what do ya want for nothing?".utf8).withUnsafeBytes {
                Crypto.hmacSHA256(key: Array("Jefe".utf8), message: $0)
            }
            #expect(Base64.encode(mac) == "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=")
            // Empty key and message (python3: hmac.new(b"", b"", "sha256")).
            let empty = [UInt8]().withUnsafeBytes { Crypto.hmacSHA256(key: [], message: $0) }
            #expect(Base64.encode(empty) == "thNnmggU2ex3L5XXeMNfxf8Wl8STcVZTxscSFEKSxa0=")
        }

        @Test func constantTimeEqual() {
            #expect(Crypto.constantTimeEqual([], []))
            #expect(Crypto.constantTimeEqual([1, 2, 3], [1, 2, 3]))
            #expect(!Crypto.constantTimeEqual([1, 2, 3], [1, 2, 4]))
            #expect(!Crypto.constantTimeEqual([1, 2, 3], [1, 2]))
            #expect(!Crypto.constantTimeEqual([], [0]))
        }
    }
}
