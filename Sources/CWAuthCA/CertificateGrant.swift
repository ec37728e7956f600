import AuthCore

/// Allowing a pending registration that carried a CSR: the user is created as a certificate user and
/// the CSR is signed in the same transaction, so a device is never admitted without its certificate
/// (nor a certificate recorded for a request that was not admitted). Used by `cwauth allow` and the
/// REST allow route alike; both need the CA's key file.
public enum CertificateGrant {
    /// Runs inside the caller's store transaction, after the checks of its own (roles, privileges).
    public static func allow(_ store: Store, _ username: String, roles: [String], force: Bool) throws -> (User, IssuedCertificate?) {
        guard let request = try store.pendingRequest(username) else {
            return (try store.allow(username, roles: roles, force: force), nil)
        }
        guard !request.csrPEM.isEmpty else { return (try store.allow(username, roles: roles, force: force), nil) }
        // Checked again: the CSR was checked when recorded, but the store may have been written by hand since.
        let csr = try CSRCheck.validate(pem: request.csrPEM, username: username)
        let ca: CertificateAuthority
        do { ca = try CertificateAuthority.load(from: store) } catch CAError.notInitialised {
            throw CAError.invalid("the request for \"\(username)\" carries a CSR, but \(store.path) has no certificate authority yet: "
                                  + "create one with cwauth ca init, then allow again")
        }
        let issued = try ca.issue(csr)
        return (try store.allow(username, roles: roles, force: force, certificate: issued), issued)
    }
}
