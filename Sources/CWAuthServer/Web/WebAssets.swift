/// The admin web page, compiled into the binary: `cwauth serve` needs no files beside it and the page
/// works on a machine without internet (no CDN, no external fonts, system fonts only). The files live in
/// web/ at the top of the repository and scripts/embed_assets.py copies them into WebAssetFiles.swift.
///
/// - The pages (web/NAME.html, served at /NAME) are complete static HTML shells, each repeating the
///   shared head and top bar, so a page's file is exactly what its path serves. They hold structure
///   only: no inline script or style, because the server sends `Content-Security-Policy: default-src
///   'self'`; /static/app.js picks its page from `<body data-page>` and fills the tables from the JSON
///   API, so the same API the CLI-minded admins script against is the only way the page changes anything.
/// - /static/app.js builds DOM with textContent only (never innerHTML with data): usernames are
///   admin-untrusted input that devices choose themselves. Every state-changing request carries the
///   CSRF token learnt from GET /api/auth/session.
/// - /static/app.css: at phone widths the nav wraps, forms stack, and wide tables scroll sideways
///   inside their own box instead of stretching the page.
public enum WebAssets {
    /// (content type, body) for a GET of `path` (e.g. "/login", "/users", "/roles", "/registry", "/audit",
    /// "/static/app.js", "/static/app.css"), or nil when there is no such page.
    public static func asset(for path: String) -> (contentType: String, body: String)? {
        guard let file = byPath[normalized(path)] else { return nil }
        return (file.contentType, file.body)
    }

    /// Drops a query string and one trailing slash, so "/users/" and "/users?x=1" find the page too.
    static func normalized(_ path: String) -> String {
        var clean = Substring(path)
        if let query = clean.firstIndex(where: { $0 == "?" || $0 == "#" }) { clean = clean[..<query] }
        if clean.count > 1, clean.hasSuffix("/") { clean = clean.dropLast() }
        return String(clean)
    }

    /// One file of web/ as embedded by the script; `name` is its file name there, so the tests can find it.
    struct EmbeddedFile: Sendable {
        let name: String
        let path: String
        let contentType: String
        let body: String
    }

    private static let byPath: [String: EmbeddedFile] = Dictionary(uniqueKeysWithValues: files.map { ($0.path, $0) })

    enum ContentType {
        static let html = "text/html; charset=utf-8"
        static let javascript = "text/javascript; charset=utf-8"
        static let css = "text/css; charset=utf-8"
        static let svg = "image/svg+xml"
    }
}
