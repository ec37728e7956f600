import ArgumentParser
import AuthCore
import CWAuthCA
import CWAuthServer
import Foundation

struct CertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert", abstract: "Device certificates issued by the cwauth CA.",
        subcommands: [List.self, Revoke.self, Issue.self])

    /// Listed in this group's help too; the value is the root's (see `CWAuth.global`).
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
}

extension CertCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issued certificates, newest first (one user's when named).")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var username: String?

        func run() throws {
            try runCommand(global) {
                let certificates = try global.openStore().listCertificates(username: username)
                let now = Int64(Date().timeIntervalSince1970)
                if global.json { return try Output.json(certificates.map { CertificateJSON($0, now: now) }) }
                Output.table(["username", "serial", "sha256", "not after", "status"], certificates.map {
                    [$0.username, $0.serial, $0.fingerprint, Output.timestamp($0.notAfter), CertificateJSON.status($0, now: now)]
                })
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a user's certificates (or one, by serial); the broker disconnects its clients within a second.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var username: String
        @Option(help: "Only the certificate with this serial (hex, see cwauth cert list).")
        var serial: String?

        func run() throws {
            try runCommand(global) {
                let count = try global.openStore().revokeCertificate(username: username, serial: serial?.lowercased())
                try global.report(count > 0 ? "revoked \(count) certificate(s) of \(username)" : "\(username) has no valid certificate to revoke: unchanged",
                                  json: ["username": .string(username), "revoked": .int(Int64(count)), "changed": .bool(count > 0)])
            }
        }
    }

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a CSR (its CN must be the username) and make the user a certificate user.",
            discussion: """
                A user that does not exist yet is created as a certificate user (no password) with the roles given.
                An existing password user becomes a certificate user: its password stops working.
                """)
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Argument var username: String
        @Option(help: ArgumentHelp("The certificate signing request (PEM).", valueName: "file"))
        var csr: String
        @Option(name: .short, help: ArgumentHelp("Write the certificate here instead of stdout.", valueName: "file"))
        var output: String?
        @Option(name: .customLong("role"), help: "Roles for a user created here (repeatable).")
        var roles: [String] = []

        func run() throws {
            try runCommand(global) {
                let text: String
                do { text = try String(contentsOfFile: csr, encoding: .utf8) } catch {
                    throw CLIError("cannot read \(csr): \(error.localizedDescription)")
                }
                let store = try global.openStore()
                let request = try CSRCheck.validate(pem: text, username: username)
                let ca = try CertificateAuthority.load(from: store)
                let issued = try ca.issue(request)
                try store.transaction { () throws(StoreError) in
                    if try store.user(named: username) == nil {
                        try store.addUser(User(username: username, passwordHash: "", roles: roles, authMethod: .certificate))
                    } else if !roles.isEmpty {
                        throw .invalid("user \"\(username)\" exists: give its roles with cwauth user assign, not --role")
                    }
                    try store.recordCertificate(issued)
                }
                if let output {
                    try AtomicFile.write(issued.pem, to: output, mode: AtomicFile.publicMode)
                }
                if global.json { return try Output.json(CertificateJSON(issued, now: issued.issuedAt)) }
                if output == nil { Output.document(issued.pem) } else {
                    Output.line("issued certificate \(issued.serial) to \(username) (sha256 \(issued.fingerprint)), written to \(output!)")
                }
            }
        }
    }
}

struct CertificateJSON: Encodable {
    let username: String
    let serial: String
    let fingerprint: String
    let notBefore: String
    let notAfter: String
    let revokedAt: String?
    let status: String
    let certificate: String

    init(_ c: IssuedCertificate, now: Int64) {
        username = c.username
        serial = c.serial
        fingerprint = c.fingerprint
        notBefore = Output.iso8601(c.notBefore)
        notAfter = Output.iso8601(c.notAfter)
        revokedAt = c.revokedAt.map(Output.iso8601)
        status = Self.status(c, now: now)
        certificate = c.pem
    }

    static func status(_ c: IssuedCertificate, now: Int64) -> String {
        if let at = c.revokedAt { return "revoked " + Output.iso8601(at) }
        return c.notAfter < now ? "expired" : "valid"
    }
}
