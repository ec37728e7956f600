/// The admin web page, compiled into the binary: `cwauth serve` needs no files beside it and the page
/// works on a machine without internet (no CDN, no external fonts). The pages are static HTML shells;
/// /static/app.js fills them from the JSON API, so the same API the CLI-minded admins script against is
/// the only way the page changes anything.
public enum WebAssets {
    /// (content type, body) for a GET of `path` (e.g. "/login", "/users", "/roles", "/registry", "/audit",
    /// "/static/app.js", "/static/app.css"), or nil when there is no such page.
    public static func asset(for path: String) -> (contentType: String, body: String)? {
        let clean = normalized(path)
        if let page = WebPages.byPath[clean] { return (ContentType.html, page) }
        switch clean {
        case "/static/app.js": return (ContentType.javascript, WebScript.source)
        case "/static/app.css": return (ContentType.css, WebStyle.source)
        case "/static/favicon.svg": return (ContentType.svg, WebPages.favicon)
        default: return nil
        }
    }

    /// Drops a query string and one trailing slash, so "/users/" and "/users?x=1" find the page too.
    static func normalized(_ path: String) -> String {
        var clean = Substring(path)
        if let query = clean.firstIndex(where: { $0 == "?" || $0 == "#" }) { clean = clean[..<query] }
        if clean.count > 1, clean.hasSuffix("/") { clean = clean.dropLast() }
        return String(clean)
    }

    enum ContentType {
        static let html = "text/html; charset=utf-8"
        static let javascript = "text/javascript; charset=utf-8"
        static let css = "text/css; charset=utf-8"
        static let svg = "image/svg+xml"
    }
}
