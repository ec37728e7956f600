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
    ]

    /// One trigger per change that can alter a decision; updates of `updated_at` alone bump nothing.
    static let policyTriggers: [String] = [
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
    ].map { name, when in
        "CREATE TRIGGER policy_\(name) \(when) BEGIN UPDATE policy_version SET counter = counter + 1 WHERE id = 1; END"
    }

    static var currentVersion: Int { migrations.count }
}
