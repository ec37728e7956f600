/// The HTML shells of the admin pages. They hold structure only: no inline script or style, because the
/// server sends `Content-Security-Policy: default-src 'self'`; /static/app.js picks its page from
/// `<body data-page>` and fills the tables from the JSON API.
enum WebPages {
    static let byPath: [String: String] = [
        "/login": login,
        "/registry": shell(page: "registry", title: "Client Registry", main: registryMain),
        "/users": shell(page: "users", title: "Users", main: usersMain),
        "/roles": shell(page: "roles", title: "Roles", main: rolesMain),
        "/audit": shell(page: "audit", title: "Audit log", main: auditMain),
    ]

    /// Main navigation, in the order an admin walks through the registration story.
    private static let navItems: [(page: String, path: String, label: String)] = [
        ("registry", "/registry", "Client Registry"),
        ("users", "/users", "Users"),
        ("roles", "/roles", "Roles"),
        ("audit", "/audit", "Audit"),
    ]

    private static func head(title: String) -> String {
        #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\#(title) · cwauth</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
        <link rel="stylesheet" href="/static/app.css">
        <script src="/static/app.js" defer></script>
        </head>
        """#
    }

    private static func nav(current: String) -> String {
        let links = navItems.map { item in
            let currentAttr = item.page == current ? #" aria-current="page""# : ""
            return #"<li><a id="nav-\#(item.page)" data-testid="nav-\#(item.page)" href="\#(item.path)"\#(currentAttr)>\#(item.label)</a></li>"#
        }.joined(separator: "\n")
        return #"""
        <header class="topbar">
        <a class="brand" href="/registry">\#(lockIcon(open: false, extraClass: "brand-icon"))<span>cwauth</span></a>
        <nav aria-label="Main"><ul class="nav">
        \#(links)
        </ul></nav>
        <div class="who"><span id="whoami" data-testid="whoami"></span>
        <button type="button" id="logout" data-testid="logout" class="link-button">Sign out</button></div>
        </header>
        """#
    }

    private static func shell(page: String, title: String, main: String) -> String {
        #"""
        \#(head(title: title))
        <body data-page="\#(page)">
        <a class="skip-link" href="#main">Skip to content</a>
        \#(nav(current: page))
        <main id="main" tabindex="-1">
        <h1>\#(title)</h1>
        <div id="flash" class="flash" data-testid="flash" role="status" aria-live="polite" hidden></div>
        \#(main)
        </main>
        </body>
        </html>
        """#
    }

    /// Closed or open padlock, drawn inline so it needs no icon font (and so no emoji font on the server).
    static func lockIcon(open: Bool, extraClass: String = "") -> String {
        let shackle = open ? "M8 10.5V7.5a4 4 0 0 1 7.7-1.6" : "M8 10.5V7.5a4 4 0 0 1 8 0v3"
        let name = open ? "icon-unlocked" : "icon-locked"
        return #"<svg class="icon \#(name) \#(extraClass)" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false"><rect x="5" y="10.5" width="14" height="10" rx="2" fill="currentColor"/><path d="\#(shackle)" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/></svg>"#
    }

    static let favicon = #"""
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect x="5" y="10.5" width="14" height="10" rx="2" fill="#1f5f8b"/><path d="M8 10.5V7.5a4 4 0 0 1 8 0v3" fill="none" stroke="#1f5f8b" stroke-width="2.2" stroke-linecap="round"/></svg>
        """#

    static let login = #"""
        \#(head(title: "Sign in"))
        <body data-page="login" class="login-page">
        <main id="main" class="login-box">
        <h1>\#(lockIcon(open: false, extraClass: "brand-icon")) cwauth</h1>
        <p class="hint">Sign in with a user whose roles carry <code>http</code> permissions.</p>
        <form id="login-form" data-testid="login-form" novalidate>
        <label for="login-username">Username</label>
        <input id="login-username" data-testid="login-username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required>
        <label for="login-password">Password</label>
        <input id="login-password" data-testid="login-password" name="password" type="password" autocomplete="current-password" required>
        <p id="login-error" data-testid="login-error" class="flash error" role="alert" hidden></p>
        <button type="submit" id="login-submit" data-testid="login-submit" class="primary">Sign in</button>
        </form>
        </main>
        </body>
        </html>
        """#

    static let registryMain = #"""
        <section class="registry-bar" aria-label="Registration window">
        <button type="button" id="registry-toggle" data-testid="registry-toggle" class="lock-toggle" aria-label="Unlock the client registry" aria-describedby="registry-state-text" disabled>
        \#(lockIcon(open: false))\#(lockIcon(open: true))<span class="toggle-text" id="registry-toggle-text">Unlock</span>
        </button>
        <div class="registry-state">
        <span id="registry-state" data-testid="registry-state" class="pill pill-locked">Locked</span>
        <span id="registry-countdown" data-testid="registry-countdown" class="countdown" aria-label="time left in the registration window" hidden>--:--</span>
        <p id="registry-state-text" class="hint">Loading…</p>
        </div>
        <label class="minutes" for="registry-minutes">Window (minutes)
        <input id="registry-minutes" data-testid="registry-minutes" type="number" min="1" max="60" value="5" inputmode="numeric">
        </label>
        </section>

        <section aria-labelledby="pending-heading">
        <h2 id="pending-heading">Pending requests <span id="pending-count" class="count" data-testid="pending-count">0</span></h2>
        <p class="hint">Refreshes by itself. Select a row (or its Details button) to allow or deny the client.</p>
        <div class="table-wrap" tabindex="0" role="region" aria-labelledby="pending-heading" hidden>
        <table id="pending-table" data-testid="pending-table">
        <thead><tr>
        <th scope="col">Username</th><th scope="col">Client id</th><th scope="col">Address</th>
        <th scope="col">First seen (UTC)</th><th scope="col">Last seen (UTC)</th><th scope="col">Attempts</th>
        <th scope="col">Source</th><th scope="col">Requested roles</th><th scope="col"><span class="visually-hidden">Actions</span></th>
        </tr></thead>
        <tbody id="pending-body" data-testid="pending-body"></tbody>
        </table>
        </div>
        <p id="pending-empty" data-testid="pending-empty" class="empty">No pending requests. Unlock the registry, then let the device connect with its new username and password.</p>
        </section>

        <dialog id="pending-dialog" data-testid="pending-dialog" aria-labelledby="pending-dialog-title">
        <form method="dialog" id="pending-form">
        <h2 id="pending-dialog-title" tabindex="-1" autofocus>Request from <span id="pending-dialog-username"></span></h2>
        <dl id="pending-details" data-testid="pending-details" class="details"></dl>
        <div id="pending-conflict" data-testid="pending-conflict" class="conflict-box" hidden>
        <p><span class="badge badge-conflict">conflict</span> This username was also tried with a <strong>different password</strong>
        (<span id="pending-conflict-attempts">0</span> time(s)). The first password was kept: allowing lets in whoever
        presented that first password, which may be an impostor racing your device. Check the device first.</p>
        <label class="check"><input type="checkbox" id="pending-force" data-testid="pending-force"> I checked the device: allow anyway (force)</label>
        </div>
        <fieldset id="pending-roles">
        <legend>Roles to grant</legend>
        <div id="pending-role-list" data-testid="pending-role-list" class="checks"></div>
        <p id="pending-missing-roles" class="hint warn" hidden></p>
        <p class="hint">Nothing is ticked for you: the roles the device asked for are marked <em>requested</em>, a request only. Roles marked <em>privileged</em> (API access or a catch-all <code>#</code> permission) ask for a confirmation. With no role the device may connect but do nothing.</p>
        </fieldset>
        <p id="pending-dialog-error" data-testid="pending-dialog-error" class="flash error" role="alert" hidden></p>
        <div class="dialog-actions">
        <button type="button" id="pending-allow" data-testid="pending-allow" class="primary">Allow</button>
        <span class="deny-group">
        <button type="button" id="pending-deny" data-testid="pending-deny" class="danger">Deny</button>
        <label class="check"><input type="checkbox" id="pending-block" data-testid="pending-block"> and block this username</label>
        </span>
        <button type="button" id="pending-close" data-testid="pending-close">Close</button>
        </div>
        </form>
        </dialog>
        """#

    static let usersMain = #"""
        <section aria-labelledby="user-add-heading" class="card">
        <h2 id="user-add-heading">Add user</h2>
        <form id="user-add-form" data-testid="user-add-form" class="field-row">
        <div class="field"><label for="user-add-username">Username</label>
        <input id="user-add-username" data-testid="user-add-username" name="username" required autocomplete="off" autocapitalize="none" spellcheck="false"></div>
        <div class="field"><label for="user-add-password">Password</label>
        <input id="user-add-password" data-testid="user-add-password" name="password" type="password" required autocomplete="new-password"></div>
        <div class="field"><label for="user-add-role">Role</label>
        <select id="user-add-role" data-testid="user-add-role"><option value="">(none)</option></select></div>
        <div class="field"><label for="user-add-prefix">Publish prefix</label>
        <input id="user-add-prefix" data-testid="user-add-prefix" placeholder="optional, e.g. site1/" autocomplete="off"></div>
        <label class="check"><input type="checkbox" id="user-add-enabled" data-testid="user-add-enabled" checked> Enabled</label>
        <button type="submit" id="user-add-submit" data-testid="user-add-submit" class="primary">Add user</button>
        </form>
        </section>

        <section aria-labelledby="users-heading">
        <h2 id="users-heading">Users <span id="users-count" class="count">0</span></h2>
        <div class="table-wrap" tabindex="0" role="region" aria-labelledby="users-heading">
        <table id="users-table" data-testid="users-table">
        <thead><tr>
        <th scope="col">Username</th><th scope="col">Roles</th><th scope="col">Enabled</th><th scope="col">Origin</th>
        <th scope="col">Publish prefix</th><th scope="col">Created (UTC)</th><th scope="col">Actions</th>
        </tr></thead>
        <tbody id="users-body" data-testid="users-body"></tbody>
        </table>
        </div>
        <p id="users-empty" class="empty" hidden>No users yet.</p>
        </section>

        <dialog id="user-dialog" data-testid="user-dialog" aria-labelledby="user-dialog-title">
        <form method="dialog" id="user-dialog-form">
        <h2 id="user-dialog-title">Edit <span id="user-dialog-username"></span></h2>
        <div class="form-grid">
        <input type="text" id="user-dialog-account" autocomplete="username" readonly hidden>
        <label for="user-dialog-password">New password</label>
        <input id="user-dialog-password" data-testid="user-dialog-password" type="password" autocomplete="new-password">
        <span></span><button type="button" id="user-dialog-password-save" data-testid="user-dialog-password-save">Change password</button>
        <label for="user-dialog-prefix">Publish prefix</label>
        <input id="user-dialog-prefix" data-testid="user-dialog-prefix" placeholder="empty = none" autocomplete="off">
        <span></span><button type="button" id="user-dialog-prefix-save" data-testid="user-dialog-prefix-save">Save prefix</button>
        </div>
        <p id="user-dialog-error" class="flash error" role="alert" hidden></p>
        <div class="dialog-actions"><button type="button" id="user-dialog-close">Close</button></div>
        </form>
        </dialog>
        """#

    static let rolesMain = #"""
        <section aria-labelledby="role-add-heading" class="card">
        <h2 id="role-add-heading">Add role</h2>
        <form id="role-add-form" data-testid="role-add-form" class="inline-form">
        <label for="role-add-name">Name</label>
        <input id="role-add-name" data-testid="role-add-name" required autocomplete="off" autocapitalize="none" spellcheck="false">
        <button type="submit" id="role-add-submit" data-testid="role-add-submit" class="primary">Add role</button>
        </form>
        <p class="hint">Resources are MQTT topic filters (<code>+</code>, <code>#</code>; a whole level <code>%u</code> or <code>%c</code> stands for the
        username or client id). Context <code>http</code> grants access to this admin API (e.g. <code>/api/#</code>).</p>
        </section>
        <section aria-labelledby="roles-heading">
        <h2 id="roles-heading">Roles <span id="roles-count" class="count">0</span></h2>
        <div id="roles-list" data-testid="roles-list" class="role-list"></div>
        <p id="roles-empty" class="empty" hidden>No roles yet.</p>
        </section>
        """#

    static let auditMain = #"""
        <section aria-labelledby="audit-heading">
        <h2 id="audit-heading" class="visually-hidden">Entries</h2>
        <div class="table-wrap" tabindex="0" role="region" aria-labelledby="audit-heading">
        <table id="audit-table" data-testid="audit-table">
        <thead><tr><th scope="col">#</th><th scope="col">Time (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th>
        <th scope="col">Target</th><th scope="col">Detail</th></tr></thead>
        <tbody id="audit-body" data-testid="audit-body"></tbody>
        </table>
        </div>
        <p id="audit-empty" class="empty" hidden>No entries.</p>
        <div class="pager">
        <button type="button" id="audit-newest" data-testid="audit-newest">Newest</button>
        <button type="button" id="audit-prev" data-testid="audit-prev">Newer</button>
        <span id="audit-page" data-testid="audit-page">Page 1</span>
        <button type="button" id="audit-next" data-testid="audit-next">Older</button>
        </div>
        </section>
        """#
}
