/// Forward-only migrations. A migration is never edited once released: add a new one instead.
enum Schema {
    /// 'cwau' — marks the file as ours so we never write into somebody else's SQLite database.
    static let applicationID: Int64 = 0x6377_6175

    static let migrations: [[String]] = [
        // 1: initial schema
        [
            """
            CREATE TABLE schema_version(
                version INTEGER PRIMARY KEY,
                applied_at INTEGER NOT NULL)
            """,
            """
            CREATE TABLE users(
                id INTEGER PRIMARY KEY,
                username TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                enabled INTEGER NOT NULL DEFAULT 1 CHECK(enabled IN (0, 1)),
                publish_prefix TEXT,
                origin TEXT NOT NULL CHECK(origin IN ('manual', 'registry', 'apply')),
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL)
            """,
            """
            CREATE TABLE roles(
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL)
            """,
            """
            CREATE TABLE permissions(
                id INTEGER PRIMARY KEY,
                role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
                resource TEXT NOT NULL,
                operation TEXT NOT NULL CHECK(operation IN ('read', 'write', 'readWrite')),
                context TEXT NOT NULL CHECK(context IN ('mqtt', 'http')),
                UNIQUE(role_id, resource, context))
            """,
            """
            CREATE TABLE user_roles(
                user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
                PRIMARY KEY(user_id, role_id)) WITHOUT ROWID
            """,
            "CREATE INDEX user_roles_by_role ON user_roles(role_id)",
            """
            CREATE TABLE registry_window(
                id INTEGER PRIMARY KEY CHECK(id = 1),
                open_until INTEGER NOT NULL DEFAULT 0,
                changed_by TEXT,
                changed_at INTEGER)
            """,
            "INSERT INTO registry_window(id, open_until) VALUES (1, 0)",
            """
            CREATE TABLE pending_registrations(
                username TEXT PRIMARY KEY,
                client_id TEXT NOT NULL DEFAULT '',
                address TEXT NOT NULL DEFAULT '',
                password_hash TEXT NOT NULL,
                first_seen INTEGER NOT NULL,
                last_seen INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 1,
                conflict INTEGER NOT NULL DEFAULT 0,
                conflict_attempts INTEGER NOT NULL DEFAULT 0,
                requested_roles TEXT NOT NULL DEFAULT '',
                source TEXT NOT NULL DEFAULT 'mqtt' CHECK(source IN ('mqtt', 'http')))
            """,
            "CREATE INDEX pending_by_last_seen ON pending_registrations(last_seen)",
            """
            CREATE TABLE registry_blocklist(
                username TEXT PRIMARY KEY,
                blocked_at INTEGER NOT NULL,
                blocked_by TEXT NOT NULL)
            """,
            """
            CREATE TABLE audit_log(
                id INTEGER PRIMARY KEY,
                at INTEGER NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT NOT NULL DEFAULT '',
                detail TEXT NOT NULL DEFAULT '')
            """,
        ],
        // 2: what a device asked for through the REST door (shown to the admin, never granted by itself)
        [
            "ALTER TABLE pending_registrations ADD COLUMN requested_context TEXT NOT NULL DEFAULT ''",
        ],
        // 3: every write asks who the admins are (the last one may not go); the few http permissions
        // are found without scanning a million MQTT ones
        [
            "CREATE INDEX permissions_http ON permissions(role_id) WHERE context = 'http'",
        ],
        // 4: a counter of changes to what the broker decides from, probed instead of
        // `PRAGMA data_version`: audit rows and registry records (a commit each) rebuild nothing.
        // Kept by triggers, so every writer (CLI, server, a hand-written SQL fix) bumps it inside
        // its own transaction.
        ["CREATE TABLE policy_version(id INTEGER PRIMARY KEY CHECK(id = 1), counter INTEGER NOT NULL)",
         "INSERT INTO policy_version(id, counter) VALUES (1, 1)"]
            + Schema.policyTriggers,
        // 5: device certificates. A user logs in with a password or with a certificate issued by the
        // cwauth CA; the broker admits a certificate only if it is recorded here and not revoked, so
        // the issued-certificates table is part of what the broker decides from and bumps the counter.
        // The CA's private key is a file of its own (never in the database, so never in a backup or an
        // export); the database names it. A pending REST registration may carry a CSR.
        [
            """
            ALTER TABLE users ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'password'
                CHECK(auth_method IN ('password', 'certificate'))
            """,
            """
            CREATE TABLE certificates(
                id INTEGER PRIMARY KEY,
                username TEXT NOT NULL,
                serial TEXT NOT NULL UNIQUE,
                fingerprint TEXT NOT NULL UNIQUE,
                not_before INTEGER NOT NULL,
                not_after INTEGER NOT NULL,
                issued_at INTEGER NOT NULL,
                revoked_at INTEGER,
                pem TEXT NOT NULL)
            """,
            "CREATE INDEX certificates_by_user ON certificates(username)",
            """
            CREATE TABLE certificate_authority(
                id INTEGER PRIMARY KEY CHECK(id = 1),
                certificate_pem TEXT NOT NULL,
                key_path TEXT NOT NULL,
                certificate_days INTEGER NOT NULL CHECK(certificate_days BETWEEN 1 AND 3650),
                created_at INTEGER NOT NULL)
            """,
            "ALTER TABLE pending_registrations ADD COLUMN csr_pem TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE pending_registrations ADD COLUMN csr_fingerprint TEXT NOT NULL DEFAULT ''",
            // The users trigger of version 4 does not know the new column.
            "DROP TRIGGER policy_users_update",
        ] + Schema.triggers([
            ("users_update", "AFTER UPDATE OF username, password_hash, enabled, publish_prefix, auth_method ON users"),
            ("certificates_insert", "AFTER INSERT ON certificates"),
            ("certificates_update", "AFTER UPDATE OF username, fingerprint, revoked_at ON certificates"),
            ("certificates_delete", "AFTER DELETE ON certificates"),
        ]),
    ]

    /// One trigger per change that can alter a decision; updates of `updated_at` alone bump nothing.
    static let policyTriggers: [String] = triggers([
        ("users_insert", "AFTER INSERT ON users"),
        ("users_update", "AFTER UPDATE OF username, password_hash, enabled, publish_prefix ON users"),
        ("users_delete", "AFTER DELETE ON users"),
        ("roles_insert", "AFTER INSERT ON roles"),
        ("roles_update", "AFTER UPDATE OF name ON roles"),
        ("roles_delete", "AFTER DELETE ON roles"),
        ("permissions_insert", "AFTER INSERT ON permissions"),
        ("permissions_update", "AFTER UPDATE ON permissions"),
        ("permissions_delete", "AFTER DELETE ON permissions"),
        ("user_roles_insert", "AFTER INSERT ON user_roles"),
        ("user_roles_delete", "AFTER DELETE ON user_roles"),
        ("registry_window_update", "AFTER UPDATE OF open_until ON registry_window"),
    ])

    static func triggers(_ list: [(name: String, when: String)]) -> [String] {
        list.map { name, when in
            "CREATE TRIGGER policy_\(name) \(when) BEGIN UPDATE policy_version SET counter = counter + 1 WHERE id = 1; END"
        }
    }

    static var currentVersion: Int { migrations.count }
}
