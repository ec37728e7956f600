/// Issued client certificates and the CA record. Signing itself happens outside AuthCore (the CLI
/// and the server link swift-certificates); the store only records what was issued.
extension Store {
    /// Records a certificate issued to an existing user and makes that user a certificate user:
    /// from now on it logs in with a certificate only, its password (if any) is never checked.
    public func recordCertificate(_ certificate: IssuedCertificate, now: Int64 = Clock.unixNow()) throws(StoreError) {
        try write { () throws(StoreError) in
            guard try userID(certificate.username) != nil else { throw .notFound(kind: "user", name: certificate.username) }
            try db.prepare("""
                INSERT INTO certificates(username, serial, fingerprint, not_before, not_after, issued_at, pem)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """).bind(.text(certificate.username), .text(certificate.serial), .text(certificate.fingerprint),
                          .int(certificate.notBefore), .int(certificate.notAfter), .int(now), .text(certificate.pem)).run()
            try db.prepare("UPDATE users SET auth_method = 'certificate', updated_at = ? WHERE username = ? AND auth_method <> 'certificate'")
                .bind(.int(now), .text(certificate.username)).run()
            try audit("cert.issue", subject: certificate.username,
                      detail: "serial=\(certificate.serial) sha256=\(certificate.fingerprint)", at: now)
        }
    }

    /// Newest first; one user's when `username` is given; only revoked ones when `revoked`.
    public func listCertificates(username: String? = nil, revoked: Bool = false) throws(StoreError) -> [IssuedCertificate] {
        let stmt = try db.prepare("""
            SELECT username, serial, fingerprint, not_before, not_after, issued_at, revoked_at, pem FROM certificates
            WHERE (?1 IS NULL OR username = ?1) AND (?2 = 0 OR revoked_at IS NOT NULL) ORDER BY id DESC
            """).bind(.optional(username), .int(revoked ? 1 : 0))
        var out: [IssuedCertificate] = []
        while try stmt.step() {
            out.append(IssuedCertificate(username: stmt.text(0), serial: stmt.text(1), fingerprint: stmt.text(2),
                                         notBefore: stmt.int64(3), notAfter: stmt.int64(4), issuedAt: stmt.int64(5),
                                         revokedAt: stmt.optionalInt64(6), pem: stmt.text(7)))
        }
        return out
    }

    /// Revokes the user's certificates (only the one with `serial` when given). Returns how many
    /// were revoked (0 when none was valid: nothing is written); the broker disconnects the user's clients on its next probe.
    @discardableResult
    public func revokeCertificate(username: String, serial: String? = nil, now: Int64 = Clock.unixNow()) throws(StoreError) -> Int {
        try write { () throws(StoreError) -> Int in
            let known = try userID(username) != nil
            let listed = try listCertificates(username: username)
            guard known || !listed.isEmpty else { throw .notFound(kind: "user", name: username) }
            try db.prepare("""
                UPDATE certificates SET revoked_at = ?1 WHERE username = ?2 AND revoked_at IS NULL AND (?3 IS NULL OR serial = ?3)
                """).bind(.int(now), .text(username), .optional(serial)).run()
            let count = db.changes
            // Revoking again changes nothing and is no error; a serial the user never had is a typo.
            if let serial, !listed.contains(where: { $0.serial == serial }) {
                throw .invalid("user \"\(username)\" has no certificate with serial \(serial) (see cwauth cert list \(username))")
            }
            if count == 0 { return 0 }
            try audit("cert.revoke", subject: username, detail: serial.map { "serial=\($0)" } ?? "all (\(count))", at: now)
            return count
        }
    }

    /// Used when a user goes: no certificate of theirs may admit a later user of the same name.
    func revokeCertificates(of username: String, now: Int64) throws(StoreError) {
        try db.prepare("UPDATE certificates SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL")
            .bind(.int(now), .text(username)).run()
    }

    /// Every unrevoked certificate of every certificate user, by username (the snapshot's view).
    /// Expiry is left to TLS: the broker's `cafile` check refuses an expired certificate.
    func validCertificateFingerprints() throws(StoreError) -> [String: Set<String>] {
        let stmt = try db.prepare("""
            SELECT c.username, c.fingerprint FROM certificates c JOIN users u ON u.username = c.username
            WHERE c.revoked_at IS NULL AND u.auth_method = 'certificate'
            """)
        var out: [String: Set<String>] = [:]
        while try stmt.step() { out[stmt.text(0), default: []].insert(stmt.text(1)) }
        return out
    }

    /// Serial numbers and revocation times of every revoked certificate (for a CRL).
    public func revokedCertificates() throws(StoreError) -> [IssuedCertificate] {
        try listCertificates(revoked: true)
    }

    /// Takes the user back to password logins (after `user passwd`); its certificates are revoked.
    public func setAuthMethod(_ username: String, _ method: AuthMethod, now: Int64 = Clock.unixNow()) throws(StoreError) {
        try write { () throws(StoreError) in
            guard let user = try user(named: username) else { throw .notFound(kind: "user", name: username) }
            if method == .password {
                if user.passwordHash.isEmpty {
                    throw .invalid("user \"\(username)\" has no password: set one with cwauth user passwd first")
                }
                try revokeCertificates(of: username, now: now)
            }
            try db.prepare("UPDATE users SET auth_method = ?, updated_at = ? WHERE username = ?")
                .bind(.text(method.rawValue), .int(now), .text(username)).run()
            try audit("user.auth-method", subject: username, detail: "method=\(method.rawValue)", at: now)
        }
    }

    /// `allow` for a request that carried a CSR, with the certificate signed for it: the user and its
    /// certificate are written together (inside the caller's transaction, if one is open).
    public func allow(_ username: String, roles: [String], force: Bool = false, certificate: IssuedCertificate,
                      now: Int64 = Clock.unixNow()) throws(StoreError) -> User {
        try write { () throws(StoreError) -> User in
            _ = try allow(username, roles: roles, force: force, now: now)
            try recordCertificate(certificate, now: now)
            return try requireUser(username)
        }
    }

    // MARK: - the CA

    public func certificateAuthority() throws(StoreError) -> CertificateAuthorityRecord? {
        let stmt = try db.prepare("SELECT certificate_pem, key_path, certificate_days, created_at FROM certificate_authority WHERE id = 1")
        guard try stmt.step() else { return nil }
        return CertificateAuthorityRecord(certificatePEM: stmt.text(0), keyPath: stmt.text(1),
                                          certificateDays: Int(stmt.int64(2)), createdAt: stmt.int64(3))
    }

    /// Records the CA; refuses to replace one (every issued certificate hangs on it).
    public func setCertificateAuthority(_ record: CertificateAuthorityRecord, now: Int64 = Clock.unixNow()) throws(StoreError) {
        guard CertificateAuthorityRecord.certificateDaysRange.contains(record.certificateDays) else {
            throw .invalid("certificate validity must be \(CertificateAuthorityRecord.certificateDaysRange.lowerBound)–\(CertificateAuthorityRecord.certificateDaysRange.upperBound) days, not \(record.certificateDays)")
        }
        try write { () throws(StoreError) in
            if try certificateAuthority() != nil {
                throw .alreadyExists(kind: "certificate authority", name: path)
            }
            try db.prepare("""
                INSERT INTO certificate_authority(id, certificate_pem, key_path, certificate_days, created_at) VALUES (1, ?, ?, ?, ?)
                """).bind(.text(record.certificatePEM), .text(record.keyPath), .int(Int64(record.certificateDays)), .int(now)).run()
            try audit("ca.init", subject: record.keyPath, detail: "certificate_days=\(record.certificateDays)", at: now)
        }
    }
}
