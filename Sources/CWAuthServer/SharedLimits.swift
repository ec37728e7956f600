/// Defaults the CLI and the REST API must agree on that AuthCore does not define; each is written here
/// once and read by both, so `cwauth registry unlock` and POST /api/client-registry/unlock cannot drift.
public enum SharedLimits {
    /// How long the registration window opens when no duration is given.
    public static let registryWindowMinutes = 5
    /// Audit entries shown when no limit is given.
    public static let auditPageEntries = 50
}
