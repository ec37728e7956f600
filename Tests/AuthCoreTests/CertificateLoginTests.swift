import Testing
@testable import AuthCore

// Certificate users: what the store records about issued certificates, and what the broker decides
// for a client presenting one (the TLS listener verified it against the CA already).
@Suite struct CertificateLoginTests {
    typealias Fixture = BrokerCoreTests.Fixture
    static let second: UInt64 = 1_000_000_000

    static let deviceDigest: [UInt8] = Array(repeating: 0xab, count: 32)
    static let otherDigest: [UInt8] = Array(repeating: 0xcd, count: 32)

    static func issued(_ username: String, _ digest: [UInt8], serial: String) -> IssuedCertificate {
        IssuedCertificate(username: username, serial: serial, fingerprint: Fingerprint.hex(digest),
                          notBefore: 0, notAfter: 4_000_000_000, pem: "-----BEGIN CERTIFICATE-----\n...")
    }

    /// `cam-1`: a certificate user with one issued certificate and the writer role.
    static func fixture() throws -> Fixture {
        try Fixture(prepare: { s in
            try s.addUser(User(username: "cam-1", passwordHash: "", roles: ["writer"], authMethod: .certificate))
            try s.recordCertificate(issued("cam-1", deviceDigest, serial: "01"))
        })
    }

    func login(_ f: Fixture, _ user: String?, _ password: String?, _ cert: PeerCertificate?, client: String = "c1")
        -> BrokerCore.AuthOutcome {
        let outcome = f.core.authenticate(username: user, password: password, clientId: client, address: "127.0.0.1", certificate: cert)
        f.core.settleBackgroundWork()
        return outcome
    }

    @Test func theIssuedCertificateLogsInWithoutAUsernameAndGetsItsCN() throws {
        let f = try Self.fixture()
        let outcome = login(f, nil, nil, .read(commonName: "cam-1", sha256: Self.deviceDigest))
        #expect(outcome == BrokerCore.AuthOutcome(answer: .allow, setUsername: "cam-1"))
        // With its own username sent, nothing needs setting.
        #expect(login(f, "cam-1", nil, .read(commonName: "cam-1", sha256: Self.deviceDigest))
                == BrokerCore.AuthOutcome(answer: .allow, setUsername: nil))
        #expect(f.allows("cam-1", "factory/l1/telemetry/t", .write))
        #expect(f.log.matching(.debug, "auth allow: cam-1 by certificate").count == 2)
    }

    @Test func aCertificateNotIssuedOrForAnotherNameIsRefused() throws {
        let f = try Self.fixture()
        #expect(login(f, nil, nil, .read(commonName: "cam-1", sha256: Self.otherDigest)).answer == .deny)
        #expect(f.log.matching(.debug, "never issued to it").count == 1)
        // cam-1's own certificate, but claiming another certificate user's name.
        try f.cli.addUser(User(username: "cam-2", passwordHash: "", authMethod: .certificate))
        try f.cli.recordCertificate(Self.issued("cam-2", Self.otherDigest, serial: "02"))
        _ = f.core.tick(now: 1 * Self.second)
        #expect(login(f, "cam-2", nil, .read(commonName: "cam-1", sha256: Self.deviceDigest)).answer == .deny)
        #expect(f.log.matching(.debug, "presented a certificate for cam-1").count == 1)
        #expect(login(f, nil, nil, .unreadable).answer == .deny)
        #expect(login(f, "cam-1", nil, .unreadable).answer == .deny)
        // A CN nobody has.
        #expect(login(f, nil, nil, .read(commonName: "ghost", sha256: Self.deviceDigest)).answer == .deny)
    }

    /// Mosquitto 2.1, a listener with `use_identity_as_username`: the broker connected the client
    /// without asking; only what a certificate login admits may stay.
    @Test func aClientConnectedWithoutAuthenticationStaysOnlyWithAnIssuedCertificate() throws {
        let f = try Self.fixture()
        try f.cli.addUser(User(username: "monitor", passwordHash: TestHash.make("monitor-pw"), roles: ["writer"]))
        _ = f.core.tick(now: 1 * Self.second)
        func admits(_ username: String?, _ cert: PeerCertificate) -> Bool {
            f.core.admitsUnauthenticated(username: username, clientId: "c1", address: "127.0.0.1", certificate: cert)
        }
        #expect(admits("cam-1", .read(commonName: "cam-1", sha256: Self.deviceDigest)))
        #expect(!admits("cam-1", .read(commonName: "cam-1", sha256: Self.otherDigest)))
        #expect(f.log.matching(.debug, "never issued to it").count == 1)
        #expect(!admits("monitor", .read(commonName: "monitor", sha256: Self.deviceDigest)))
        #expect(f.log.matching(.debug, "a password user, which must send its password").count == 1)
        #expect(!admits("ghost", .read(commonName: "ghost", sha256: Self.deviceDigest)))
        #expect(f.log.matching(.debug, "no user of that name").count == 1)
        // use_subject_as_username: the username is the whole subject, not the CN.
        #expect(!admits("CN=cam-1", .read(commonName: "cam-1", sha256: Self.deviceDigest)))
        #expect(!admits("cam-1", .unreadable))
        try f.cli.setEnabled("cam-1", false)
        _ = f.core.tick(now: 2 * Self.second)
        #expect(!admits("cam-1", .read(commonName: "cam-1", sha256: Self.deviceDigest)))
        // The operator hears once that a listener skips authentication.
        #expect(f.log.matching(.warning, "connects clients without plugin authentication").count == 1)
    }

    @Test func aCertificateUsersPasswordLoginIsRefused() throws {
        let f = try Fixture(prepare: { s in
            // Registered with a password first, then issued a certificate: the password stops working.
            try s.addUser(User(username: "cam-1", passwordHash: TestHash.make("cam-pass-1"), roles: ["writer"]))
            try s.recordCertificate(Self.issued("cam-1", Self.deviceDigest, serial: "01"))
        })
        #expect(try f.cli.requireUser("cam-1").authMethod == .certificate)
        #expect(login(f, "cam-1", "cam-pass-1", nil).answer == .deny)
        #expect(f.log.matching(.debug, "cam-1 logs in with its certificate only").count == 1)
        #expect(login(f, "cam-1", "cam-pass-1", .read(commonName: "cam-1", sha256: Self.deviceDigest)).answer == .allow)
        #expect(f.core.snapshot.unusableHashes.isEmpty)
    }

    @Test func aPasswordUserPresentingACertificateStillNeedsItsPassword() throws {
        let f = try Self.fixture()
        let dashCert = PeerCertificate.read(commonName: "dash", sha256: Self.otherDigest)
        #expect(login(f, nil, nil, dashCert).answer == .deny)
        #expect(f.log.matching(.debug, "a password user, which must send its password").count == 1)
        #expect(login(f, "dash", nil, dashCert).answer == .deny)
        #expect(login(f, "dash", "wrong-pass", dashCert).answer == .deny)
        #expect(login(f, "dash", "dash-pass", dashCert) == BrokerCore.AuthOutcome(answer: .allow, setUsername: nil))
        // Any certificate (a device's) with a password user's credentials is that user's login.
        #expect(login(f, "dash", "dash-pass", .read(commonName: "cam-1", sha256: Self.deviceDigest)).answer == .allow)
    }

    @Test func revokingDisablingOrDeletingKicksAndRefuses() throws {
        let f = try Self.fixture()
        let cert = PeerCertificate.read(commonName: "cam-1", sha256: Self.deviceDigest)
        #expect(login(f, nil, nil, cert).answer == .allow)

        #expect(try f.cli.revokeCertificate(username: "cam-1") == 1)
        #expect(f.core.tick(now: 1 * Self.second) == ["cam-1"])
        #expect(login(f, nil, nil, cert).answer == .deny)
        #expect(try f.cli.listCertificates(username: "cam-1").first?.isRevoked == true)
        #expect(try f.cli.revokeCertificate(username: "cam-1") == 0, "revoking again changes nothing and is no error")
        #expect(throws: StoreError.self) { try f.cli.revokeCertificate(username: "cam-1", serial: "ff") }

        // A new certificate, then the user disabled, then deleted.
        try f.cli.recordCertificate(Self.issued("cam-1", Self.otherDigest, serial: "03"))
        #expect(f.core.tick(now: 2 * Self.second).isEmpty, "a new certificate takes nothing away")
        let renewed = PeerCertificate.read(commonName: "cam-1", sha256: Self.otherDigest)
        #expect(login(f, nil, nil, renewed).answer == .allow)
        try f.cli.setEnabled("cam-1", false)
        #expect(f.core.tick(now: 3 * Self.second) == ["cam-1"])
        #expect(login(f, nil, nil, renewed).answer == .deny)
        try f.cli.setEnabled("cam-1", true)
        _ = f.core.tick(now: 4 * Self.second)
        try f.cli.removeUser("cam-1")
        #expect(f.core.tick(now: 5 * Self.second) == ["cam-1"])
        // Recreated under the same name, the old certificates admit nobody.
        try f.cli.addUser(User(username: "cam-1", passwordHash: "", authMethod: .certificate))
        _ = f.core.tick(now: 6 * Self.second)
        #expect(login(f, nil, nil, renewed).answer == .deny)
        #expect(try f.cli.listCertificates(username: "cam-1").allSatisfy(\.isRevoked))
    }

    @Test func issuedCertificatesAndTheCAAreRecorded() throws {
        let db = try TestDatabase()
        let s = db.store
        #expect(try s.certificateAuthority() == nil)
        let ca = CertificateAuthorityRecord(certificatePEM: "PEM", keyPath: "/tmp/ca.key", certificateDays: 90)
        try s.setCertificateAuthority(ca, now: 5)
        #expect(try s.certificateAuthority() == CertificateAuthorityRecord(certificatePEM: "PEM", keyPath: "/tmp/ca.key",
                                                                           certificateDays: 90, createdAt: 5))
        #expect(throws: StoreError.self) { try s.setCertificateAuthority(ca) }
        #expect(throws: StoreError.self) {
            try s.setCertificateAuthority(CertificateAuthorityRecord(certificatePEM: "P", keyPath: "k", certificateDays: 0))
        }
        // No such user: nothing recorded.
        #expect(throws: StoreError.self) { try s.recordCertificate(Self.issued("nobody", Self.deviceDigest, serial: "09")) }
        // A password user without a password cannot exist; a certificate user can.
        #expect(throws: StoreError.self) { try s.addUser(User(username: "nopass", passwordHash: "")) }
        try s.addUser(User(username: "cam-9", passwordHash: "", authMethod: .certificate))
        let before = try s.policyVersion()
        try s.recordCertificate(Self.issued("cam-9", Self.deviceDigest, serial: "0a"), now: 7)
        #expect(try s.policyVersion() > before, "the broker must see a new certificate")
        // The same certificate twice is refused (fingerprint and serial are unique).
        #expect(throws: StoreError.self) { try s.recordCertificate(Self.issued("cam-9", Self.deviceDigest, serial: "0a")) }
        let listed = try s.listCertificates()
        #expect(listed.map(\.serial) == ["0a"])
        #expect(listed.first?.issuedAt == 7)
        #expect(try s.loadPolicy().certificates == ["cam-9": [Fingerprint.hex(Self.deviceDigest)]])
        #expect(throws: StoreError.self) { try s.setAuthMethod("cam-9", .password) }
        #expect(try s.auditLog().map(\.action).prefix(2) == ["cert.issue", "user.add"])
    }

    @Test func exportAndApplyKeepCertificateUsersWithoutPasswords() throws {
        let source = try TestDatabase()
        try source.store.addRole("writer")
        try source.store.addUser(User(username: "cam-1", passwordHash: TestHash.make("registered-pw"), roles: ["writer"]))
        try source.store.recordCertificate(Self.issued("cam-1", Self.deviceDigest, serial: "01"))
        let document = try source.store.export()
        #expect(document.users.first == UserSpec(username: "cam-1", roles: ["writer"], authMethod: .certificate))
        let target = try TestDatabase()
        _ = try target.store.apply(document)
        let copy = try target.store.requireUser("cam-1")
        #expect(copy.authMethod == .certificate && copy.passwordHash.isEmpty && copy.roles == ["writer"])
        #expect(try target.store.apply(document).usersUnchanged == ["cam-1"], "re-applying writes nothing")
        var both = document
        both.users[0].password = "some-password"
        #expect(throws: StoreError.self) { try target.store.apply(both) }
    }

    @Test func fingerprintsPrintAsOpenSSLDoes() {
        #expect(Fingerprint.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(Fingerprint.colons("000fa0ff") == "00:0F:A0:FF")
        #expect(Fingerprint.bytes(hex: "000fa0ff") == [0x00, 0x0f, 0xa0, 0xff])
        #expect(Fingerprint.bytes(hex: "000FA0FF") == [0x00, 0x0f, 0xa0, 0xff])
        #expect(Fingerprint.bytes(hex: "0f0") == nil && Fingerprint.bytes(hex: "zz") == nil)
    }
}
