import AuthCore
import CSystemLibraries
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import CWAuthServer

@Suite("GET /healthz")
struct HealthTests {
    @Test func okWithTheVersionsReadNow() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            let first = try await client.call(.get, "/healthz")
            #expect(first.status == .ok)
            #expect(first.string("status") == "ok")
            guard case let .int(schema)? = first.json?["schemaVersion"], case let .int(policy)? = first.json?["policyVersion"]
            else { Issue.record("bad body: \(first.text)"); return }
            #expect(schema >= 1)
            #expect(policy == (try fixture.store().policyVersion()))
            // A change made by another connection shows in the next answer: each probe reads the file.
            try fixture.store().addRole("added-by-the-cli")
            let second = try await client.call(.get, "/healthz")
            #expect(second.json?["policyVersion"] == .int(try fixture.store().policyVersion()))
            #expect(second.json?["policyVersion"] != .int(policy))
            guard case let .object(members)? = second.json else { return }
            #expect(members.map(\.0).sorted() == ["policyVersion", "schemaVersion", "status"])
        }
    }

    @Test func missingDatabaseIs503AndSaysNoMore() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            for suffix in ["", "-wal", "-shm"] { unlink(fixture.databasePath + suffix) }
            let reply = try await client.call(.get, "/healthz")
            #expect(reply.status == .serviceUnavailable)
            #expect(reply.json == ["status": "unavailable", "error": "database file missing"])
            #expect(!reply.text.contains(fixture.directory))
        }
    }

    @Test func databaseOverwrittenInPlaceIs503() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            #expect(try await client.call(.get, "/healthz").status == .ok)
            // Every page in the main file, then garbage over it: the server's own connection would still
            // answer from its cache, the probe's fresh reader must not.
            try SQLiteHelper.exec(fixture.databasePath, "PRAGMA wal_checkpoint(TRUNCATE)")
            let file = try #require(FileHandle(forWritingAtPath: fixture.databasePath))
            try file.write(contentsOf: Data(repeating: 0x5a, count: 8192))
            try file.close()
            let reply = try await client.call(.get, "/healthz")
            #expect(reply.status == .serviceUnavailable)
            #expect(reply.json == ["status": "unavailable", "error": "database corrupt or not a cwauth database"])
            #expect(!reply.text.contains("cwauth.db"))
        }
    }

    @Test func replacedDatabaseIs503() async throws {
        let fixture = try Fixture()
        let other = fixture.directory + "/other.db"
        _ = try Store.initialize(path: other, actor: "test")
        try await fixture.test { client async throws in
            #expect(rename(other, fixture.databasePath) == 0)
            let reply = try await client.call(.get, "/healthz")
            #expect(reply.status == .serviceUnavailable)
            #expect(reply.string("error")?.hasPrefix("database file replaced") == true)
        }
    }

    /// The probe's own reader against a database another connection holds exclusively. (The server's
    /// connection keeps a shared lock, so nobody can take the served file exclusively in a test.)
    @Test func aLockedDatabaseIsReportedAfterAQuarterSecond() throws {
        let fixture = try Fixture()
        let path = fixture.directory + "/held.db"
        _ = try Store.initialize(path: path, actor: "test")
        #expect((try? Health.readVersions(path: path).get())?.schemaVersion ?? 0 >= 1)
        let holder = try SQLiteHelper(path)
        try holder.exec("PRAGMA locking_mode=EXCLUSIVE")
        try holder.exec("BEGIN EXCLUSIVE")
        try holder.exec("UPDATE policy_version SET counter = counter + 1")
        let start = ContinuousClock.now
        let result = Health.readVersions(path: path)
        let waited = ContinuousClock.now - start
        guard case let .failure(detail) = result else { Issue.record("read a held database: \(result)"); return }
        #expect(detail.problem == .locked)
        #expect(detail.problem.publicMessage == "database locked")
        #expect(waited >= .milliseconds(200) && waited < .seconds(3), "\(waited)")
        try holder.exec("ROLLBACK")
    }

    /// The messages the server can send are the ones the OpenAPI document lists, and nothing else.
    @Test func problemsAreTheDocumentedOnes() throws {
        let document = try #require(JSONValue.parse(Array(OpenAPIDocument.text.utf8)))
        guard case let .array(listed)? = document["components"]?["schemas"]?["HealthProblem"]?["properties"]?["error"]?["enum"]
        else { Issue.record("no HealthProblem error enum"); return }
        let problems: [Health.Problem] = [.missing, .replaced, .locked, .corrupt, .unreadable]
        let documented = listed.compactMap { if case let .string(text) = $0 { return text } else { return nil } }
        #expect(documented.count == listed.count)
        #expect(Set(documented) == Set(problems.map(\.publicMessage)))
    }
}

@Suite("GET /metrics")
struct MetricsTests {
    static let scraper = ("scraper", "scraper-pw-1")

    /// A fixture with a user whose only http permission is read on /metrics, as Prometheus would have.
    static func fixture(_ options: ServerState.Options = .init(registerPerUsernameIntervalNanos: 0)) throws -> Fixture {
        let fixture = try Fixture(options: options)
        let store = try fixture.store()
        try store.addRole("metrics-reader")
        try store.grant("metrics-reader", Permission(resource: "/metrics", operation: .read, context: .http))
        try store.addUser(User(username: scraper.0, passwordHash: PasswordHash.make(password: scraper.1, iterations: 1000).encoded,
                               roles: ["metrics-reader"]))
        return fixture
    }

    static func scrape(_ client: any TestClientProtocol) async throws -> String {
        let reply = try await client.call(.get, "/metrics", .basic(scraper.0, scraper.1))
        #expect(reply.status == .ok)
        #expect(reply.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
        return reply.text
    }

    /// The value of the series with exactly these labels (in the order the server writes them), or nil.
    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func needsAPermissionCoveringMetrics() async throws {
        try await Self.fixture().test { client async throws in
            #expect(try await client.call(.get, "/metrics").status == .unauthorized)
            // The whole API is not /metrics: an admin of /api/# needs a grant for it like anyone else.
            let admin = try await client.call(.get, "/metrics", .admin)
            #expect(admin.status == .forbidden)
            #expect(admin.error?.contains("needs an http read permission covering it") == true)
            #expect(try await client.call(.get, "/metrics", .bearer("not-a-token")).status == .unauthorized)
            _ = try await Self.scrape(client)
            let token = try await client.token(Self.scraper)
            #expect(try await client.call(.get, "/metrics", .bearer(token)).status == .ok)
            // Read on /metrics reaches nothing else.
            #expect(try await client.call(.get, "/api/users", .basic(Self.scraper.0, Self.scraper.1)).status == .forbidden)
        }
    }

    @Test func theMetricsTokenOpensMetricsOnly() async throws {
        let token = String(repeating: "ab12", count: 10)
        try await Self.fixture(.init(registerPerUsernameIntervalNanos: 0, metricsToken: token)).test { client async throws in
            #expect(try await client.call(.get, "/metrics", .bearer(token)).status == .ok)
            #expect(try await client.call(.get, "/metrics", .bearer(token + "x")).status == .unauthorized)
            #expect(try await client.call(.get, "/api/users", .bearer(token)).status == .unauthorized)
        }
    }

    @Test func requestsAreCountedByRouteTemplateNeverByPath() async throws {
        try await Self.fixture().test { client async throws in
            #expect(try await client.call(.get, "/api/users/admin", .admin).status == .ok)
            #expect(try await client.call(.get, "/api/users/attacker-chosen-name-1", .admin).status == .notFound)
            #expect(try await client.call(.get, "/api/users/attacker-chosen-name-2", .admin).status == .notFound)
            #expect(try await client.call(.get, "/api/no/such/attacker-path", .admin).status == .notFound)
            #expect(try await client.call(.get, "/healthz").status == .ok)
            #expect(try await client.call(.get, "/users").status == .ok)
            let text = try await Self.scrape(client)
            #expect(Self.value(text, #"cwauth_http_requests_total{route="/api/users/{name}",method="GET",status="200"}"#) == 1)
            #expect(Self.value(text, #"cwauth_http_requests_total{route="/api/users/{name}",method="GET",status="404"}"#) == 2)
            #expect(Self.value(text, #"cwauth_http_requests_total{route="unmatched",method="GET",status="404"}"#) == 1)
            #expect(Self.value(text, #"cwauth_http_requests_total{route="/healthz",method="GET",status="200"}"#) == 1)
            #expect(Self.value(text, #"cwauth_http_requests_total{route="web",method="GET",status="200"}"#) == 1)
            #expect(!text.contains("attacker"))
            #expect(!text.contains("/api/users/admin"))
        }
    }

    @Test func unknownMethodsShareOneLabel() async throws {
        try await Self.fixture().test { client async throws in
            _ = try await client.call(HTTPRequest.Method("BREW")!, "/api/users", .admin)
            let text = try await Self.scrape(client)
            #expect(!text.contains("BREW"))
            #expect(text.contains(#"method="other""#))
        }
    }

    @Test func adminLoginsByOutcome() async throws {
        try await Self.fixture().test { client async throws in
            let initial = try await Self.scrape(client)
            // Every outcome is there from the start, at zero, so rate() and alerts see it.
            #expect(Self.value(initial, #"cwauth_admin_logins_total{outcome="failed",via="login"}"#) == 0)
            #expect(Self.value(initial, #"cwauth_admin_logins_total{outcome="throttled",via="basic"}"#) == 0)
            let ok = Self.value(initial, #"cwauth_admin_logins_total{outcome="ok",via="basic"}"#) ?? -1

            _ = try await client.token()
            for _ in 0..<5 {
                let wrong = try await client.call(.post, "/api/auth/login", json: #"{"username":"admin","password":"wrong-pw-1"}"#)
                #expect(wrong.status == .unauthorized)
            }
            let throttled = try await client.call(.post, "/api/auth/login", json: #"{"username":"admin","password":"wrong-pw-1"}"#)
            #expect(throttled.status == .tooManyRequests)
            #expect(try await client.call(.get, "/api/users", .basic("viewer", "wrong-pw-1")).status == .unauthorized)
            #expect(try await client.call(.post, "/api/auth/login", json: #"{"username":"device","password":"device-pw-1"}"#).status == .forbidden)

            let text = try await Self.scrape(client)
            #expect(Self.value(text, #"cwauth_admin_logins_total{outcome="ok",via="login"}"#) == 1)
            // Five wrong passwords and the device, whose right password opens no http access.
            #expect(Self.value(text, #"cwauth_admin_logins_total{outcome="failed",via="login"}"#) == 6)
            #expect(Self.value(text, #"cwauth_admin_logins_total{outcome="throttled",via="login"}"#) == 1)
            #expect(Self.value(text, #"cwauth_admin_logins_total{outcome="failed",via="basic"}"#) == 1)
            // The scrapes themselves are Basic logins.
            #expect(Self.value(text, #"cwauth_admin_logins_total{outcome="ok",via="basic"}"#) == ok + 1)
        }
    }

    @Test func registryRequestsByOutcome() async throws {
        try await Self.fixture().test { client async throws in
            let body = #"{"username":"press-9","password":"press-9-secret"}"#
            #expect(try await client.call(.post, "/api/client-registry/register", json: body).status == .locked)
            #expect(try await client.call(.post, "/api/client-registry/unlock", .admin, json: #"{"minutes":5}"#).status == .ok)
            #expect(try await client.call(.post, "/api/client-registry/register", json: body).status == .accepted)
            #expect(try await client.call(.post, "/api/client-registry/register", json: #"{"username":"x"}"#).status == .badRequest)
            let text = try await Self.scrape(client)
            #expect(Self.value(text, #"cwauth_registry_requests_total{outcome="locked"}"#) == 1)
            #expect(Self.value(text, #"cwauth_registry_requests_total{outcome="pending"}"#) == 1)
            #expect(Self.value(text, #"cwauth_registry_requests_total{outcome="invalid"}"#) == 1)
            #expect(Self.value(text, #"cwauth_registry_requests_total{outcome="registered"}"#) == 0)
        }
    }

    @Test func storeWritesAreTimed() async throws {
        try await Self.fixture().test { client async throws in
            let before = Self.value(try await Self.scrape(client), "cwauth_store_write_duration_seconds_count") ?? -1
            let created = try await client.call(.post, "/api/users", .admin, json: #"{"username":"timed","password":"timed-pw-1"}"#)
            #expect(created.status == .created)
            let text = try await Self.scrape(client)
            #expect((Self.value(text, "cwauth_store_write_duration_seconds_count") ?? 0) >= before + 1)
            #expect(text.contains(#"cwauth_store_write_duration_seconds_bucket{le="+Inf"}"#))
        }
    }
}

@Suite("TLS")
struct TLSTests {
    @Test func sessionCookieIsSecureOnlyOverTLS() async throws {
        let plain = try Fixture()
        try await plain.test { client async throws in
            let login = try await client.call(.post, "/api/auth/login", json: #"{"username":"admin","password":"admin-pw-1","session":true}"#)
            let cookie = try #require(login.headers[.setCookie])
            #expect(!cookie.contains("Secure"))
        }

        let files = try TestCertificate()
        let tls = try ServerTLS.load(certificateFile: files.certificate, keyFile: files.key)
        let fixture = try Fixture(options: .init(registerPerUsernameIntervalNanos: 0, tls: tls))
        let app = try CWAuthServer.makeApplication(state: fixture.state, host: "127.0.0.1", port: 0,
                                                   logger: Logger(label: "cwauth.test"), onListening: { _, _ in })
        // A live server and a real HTTPS client: the cookie comes over TLS, and with Secure.
        try await app.test(.ahc(.https)) { client async throws in
            let login = try await client.call(.post, "/api/auth/login", json: #"{"username":"admin","password":"admin-pw-1","session":true}"#)
            #expect(login.status == .ok)
            let cookie = try #require(login.headers[.setCookie])
            #expect(cookie.hasPrefix("cwauth_session="))
            #expect(cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.contains("Secure"))
            let token = String(try #require(cookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last))
            let logout = try await client.call(.post, "/api/auth/logout", .cookie(token, csrf: login.string("csrfToken")))
            #expect(logout.headers[.setCookie]?.contains("; Secure") == true)
        }
    }

    @Test func badFilesAreOneClearLine() throws {
        let files = try TestCertificate()
        func message(_ cert: String, _ key: String) -> String {
            do {
                _ = try ServerTLS.load(certificateFile: cert, keyFile: key)
                return "loaded"
            } catch {
                return error.description
            }
        }
        let missing = files.directory + "/missing.pem"
        #expect(message(missing, files.key) == "--tls-cert \(missing): cannot open it (No such file or directory)")
        #expect(message(files.certificate, missing) == "--tls-key \(missing): cannot open it (No such file or directory)")
        #expect(message(files.directory, files.key).hasPrefix("--tls-cert \(files.directory): cannot read it (Is a directory)"))
        let garbage = files.directory + "/garbage.pem"
        try "this is not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        #expect(message(garbage, files.key).hasPrefix("--tls-cert \(garbage): "))
        #expect(message(files.certificate, garbage).hasPrefix("--tls-key \(garbage): not a PEM private key"))
        // The key as the certificate and the certificate as the key: each named for what it is not.
        #expect(message(files.key, files.key).hasPrefix("--tls-cert \(files.key): "))
        #expect(message(files.certificate, files.certificate).hasPrefix("--tls-key \(files.certificate): not a PEM private key"))
        let empty = files.directory + "/empty.pem"
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        #expect(message(empty, files.key) == "--tls-cert \(empty): the file is empty")

        let other = try TestCertificate()
        #expect(message(files.certificate, other.key).hasPrefix("--tls-key \(other.key) does not belong to the certificate in --tls-cert \(files.certificate)"))
        let encrypted = try files.encryptedKey()
        #expect(message(files.certificate, encrypted).contains("the key is encrypted"))
        #expect(message(files.certificate, files.key) == "loaded")
        for text in [message(garbage, files.key), message(files.certificate, other.key)] {
            #expect(!text.contains("\n"), "one line: \(text)")
        }
    }

    @Test func loopbackAddresses() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "localhost", "::ffff:127.0.0.1"] {
            #expect(ServerState.isLoopback(host), "\(host)")
        }
        for host in ["0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "example.com", "128.0.0.1", "fe80::1", ""] {
            #expect(!ServerState.isLoopback(host), "\(host)")
        }
    }

    @Test func metricsTokenFile() throws {
        let files = try TestCertificate()
        let path = files.directory + "/token"
        try "  \(String(repeating: "7f", count: 16))\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try ServerState.metricsToken(fromFile: path) == String(repeating: "7f", count: 16))
        try "short\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ServerSetupError.self) { try ServerState.metricsToken(fromFile: path) }
        try "\(String(repeating: "a", count: 20)) \(String(repeating: "b", count: 20))\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ServerSetupError.self) { try ServerState.metricsToken(fromFile: path) }
    }
}

/// A self-signed certificate for localhost and its key, made by the openssl command in a temporary folder.
final class TestCertificate: Sendable {
    let directory: String
    let certificate: String
    let key: String

    init() throws {
        var template = Array("/tmp/cwauth-tls-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp failed") }
        directory = String(cString: made)
        certificate = directory + "/cert.pem"
        key = directory + "/key.pem"
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=localhost",
                          "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func encryptedKey() throws -> String {
        let path = directory + "/encrypted-key.pem"
        try Self.openssl(["pkey", "-in", key, "-aes256", "-passout", "pass:secret-passphrase", "-out", path])
        return path
    }

    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FixtureError("openssl \(arguments.joined(separator: " ")) failed") }
    }
}

/// A raw SQLite connection, for what the store's API does not offer: checkpoints and locks.
final class SQLiteHelper {
    let handle: OpaquePointer

    init(_ path: String) throws {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db else {
            throw FixtureError("cannot open \(path)")
        }
        handle = db
    }

    deinit { sqlite3_close_v2(handle) }

    func exec(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else {
            throw FixtureError("\(sql): \(String(cString: sqlite3_errmsg(handle)))")
        }
    }

    static func exec(_ path: String, _ sql: String) throws {
        try SQLiteHelper(path).exec(sql)
    }
}
