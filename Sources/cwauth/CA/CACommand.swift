import ArgumentParser
import AuthCore
import CWAuthCA
import Foundation

struct CACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "The certificate authority that signs device certificates (the broker's cafile).",
        subcommands: [Init.self, Show.self, CRL.self])

    /// Listed in this group's help too; the value is the root's (see `CWAuth.global`).
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
}

extension CACommand {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the CA: a P-256 key (file mode 0600, never in the database) and a self-signed certificate.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Option(help: "Validity of the CA certificate, in days.")
        var days = CertificateAuthority.defaultDays
        @Option(help: "The CA certificate's subject common name.")
        var subject = CertificateAuthority.defaultSubject
        @Option(help: ArgumentHelp("Where to write the CA key (default: beside the database, NAME-ca.key).", valueName: "path"))
        var key: String?
        @Option(name: .customLong("cert-days"), help: "Validity of the device certificates it issues, in days (1–3650).")
        var certDays = CertificateAuthorityRecord.defaultCertificateDays

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                if try store.certificateAuthority() != nil {
                    throw CLIError("\(store.path) already has a certificate authority (see cwauth ca show); it is never replaced, "
                                   + "since every issued certificate hangs on it")
                }
                let keyPath = URL(fileURLWithPath: key ?? CertificateAuthority.defaultKeyPath(database: store.path)).standardizedFileURL.path
                let ca = try CertificateAuthority.create(subject: subject, days: days, certificateDays: certDays, keyPath: keyPath)
                do {
                    try store.setCertificateAuthority(ca.record)
                } catch {
                    // Nothing recorded: the key would be an orphan that blocks the next attempt.
                    unlink(keyPath)
                    throw error
                }
                if global.json { return try Output.json(try CAShowJSON(ca)) }
                Output.line("created certificate authority \"\(subject)\" (valid \(days) days, issues certificates for \(certDays) days)")
                Output.line("key: \(keyPath) (mode 0600; back it up, it is not in the database)")
                Output.line("sha256 fingerprint: \(Fingerprint.colons(ca.fingerprint))")
                Output.line("give the broker's TLS listener `cafile` the output of: cwauth ca show --pem")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the CA certificate (PEM) and its SHA-256 fingerprint.")
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Flag(help: "Only the PEM (for the broker's cafile).")
        var pem = false

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                guard let record = try store.certificateAuthority() else { throw CAError.notInitialised(database: store.path) }
                let summary = try CertificateSummary(pem: record.certificatePEM)
                if global.json { return try Output.json(CAShowJSON(record: record, summary: summary)) }
                if !pem {
                    // A comment line before the PEM: OpenSSL (the broker's cafile) skips it.
                    print("# sha256 fingerprint: \(Fingerprint.colons(summary.fingerprint))")
                }
                Output.document(record.certificatePEM)
            }
        }
    }

    struct CRL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "crl",
            abstract: "Write a certificate revocation list (PEM, signed by the CA) of every revoked certificate.",
            discussion: """
                For consumers other than the broker: cwauth itself admits only unrevoked certificates recorded in the \
                database and needs no CRL. A consumer that checks CRLs refuses every certificate once the list's \
                next update has passed, so write it again well before (a daily timer). Needs the CA key.
                """)
        @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
        @Option(name: [.short, .long], help: ArgumentHelp("Write to this file (replaced atomically) instead of standard output.",
                                                          valueName: "file"))
        var output: String?
        @Option(help: "Days until the list's next update (1–365).")
        var days = RevocationList.defaultDays

        func run() throws {
            try runCommand(global) {
                let store = try global.openStore()
                let ca = try CertificateAuthority.load(from: store)
                let list = try ca.revocationList(try store.revokedCertificates(), days: days)
                guard let output else {
                    if global.json { return try Output.json(CRLJSON(list, file: nil)) }
                    return Output.document(list.pem)
                }
                // A consumer reading the file while it is replaced sees the old list or the new one.
                try AtomicFile.write(list.pem, to: output, mode: AtomicFile.publicMode)
                if global.json { return try Output.json(CRLJSON(list, file: output)) }
                Output.line("wrote \(output): \(list.entries) revoked certificate\(list.entries == 1 ? "" : "s"), "
                            + "CRL number \(list.number), next update \(Output.iso8601(Int64(list.nextUpdate.timeIntervalSince1970)))")
            }
        }
    }
}

/// `ca crl --json`: the list itself (`crl`) only when it went to standard output.
struct CRLJSON: Encodable {
    let file: String?
    let crl: String?
    let number: Int64
    let entries: Int
    let thisUpdate: String
    let nextUpdate: String

    init(_ list: RevocationList, file: String?) {
        self.file = file
        self.crl = file == nil ? list.pem : nil
        self.number = list.number
        self.entries = list.entries
        self.thisUpdate = Output.iso8601(Int64(list.thisUpdate.timeIntervalSince1970))
        self.nextUpdate = Output.iso8601(Int64(list.nextUpdate.timeIntervalSince1970))
    }
}

/// `ca show --json` / `ca init --json`.
struct CAShowJSON: Encodable {
    let certificate: String
    let fingerprint: String
    let subject: String
    let notAfter: String
    let keyPath: String
    let certificateDays: Int

    init(record: CertificateAuthorityRecord, summary: CertificateSummary) {
        self.certificate = record.certificatePEM
        self.fingerprint = summary.fingerprint
        self.subject = summary.subject
        self.notAfter = Output.iso8601(summary.notAfter)
        self.keyPath = record.keyPath
        self.certificateDays = record.certificateDays
    }

    init(_ ca: CertificateAuthority) throws {
        self.init(record: ca.record, summary: try CertificateSummary(pem: ca.record.certificatePEM))
    }
}
