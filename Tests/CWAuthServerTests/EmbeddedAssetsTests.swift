import Foundation
import Testing
@testable import CWAuthServer

/// scripts/embed_assets.py copies docs/openapi.json and the files in web/ into Swift sources; these tests
/// fail while a copy is stale, so the served bytes are always the repository's files.
@Suite("embedded assets")
struct EmbeddedAssetsTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let webFolder = root.appendingPathComponent("web")
    static let rerun = "run scripts/embed_assets.py"

    @Test func openAPIDocumentEqualsItsFile() throws {
        let file = try Data(contentsOf: Self.root.appendingPathComponent("docs/openapi.json"))
        #expect(Data(OpenAPIDocument.text.utf8) == file, "docs/openapi.json changed: \(Self.rerun)")
    }

    @Test func everyEmbeddedWebFileEqualsItsFile() throws {
        for embedded in WebAssets.files {
            let url = Self.webFolder.appendingPathComponent(embedded.name)
            guard let file = try? Data(contentsOf: url) else {
                Issue.record("web/\(embedded.name) is embedded but no longer exists: \(Self.rerun)")
                continue
            }
            #expect(Data(embedded.body.utf8) == file, "web/\(embedded.name) changed: \(Self.rerun)")
        }
    }

    /// A file added to web/ but never embedded would be missing from the binary without any other symptom.
    @Test func everyFileInTheWebFolderIsEmbedded() throws {
        // Dot files are skipped here as by the script: editor and OS litter, not part of the page.
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: Self.webFolder.path)
            .filter { !$0.hasPrefix(".") }
        let embedded = WebAssets.files.map(\.name)
        #expect(Set(embedded).count == embedded.count, "a file is embedded twice: \(Self.rerun)")
        #expect(Set(WebAssets.files.map(\.path)).count == embedded.count, "two files are served at one path")
        let orphans = Set(onDisk).subtracting(embedded).sorted()
        #expect(orphans == [], "files in web/ that the binary does not serve: \(Self.rerun)")
    }

    /// The paths the pages link to and the end-to-end tests open, with the types the browser needs
    /// (the server sends nosniff, so a wrong type breaks the page rather than being guessed around).
    @Test func servedPathsAndContentTypes() throws {
        let html = "text/html; charset=utf-8"
        let expected = [
            "/login": html, "/registry": html, "/users": html, "/roles": html, "/audit": html,
            "/static/app.js": "text/javascript; charset=utf-8", "/static/app.css": "text/css; charset=utf-8",
            "/static/favicon.svg": "image/svg+xml",
        ]
        #expect(Dictionary(uniqueKeysWithValues: WebAssets.files.map { ($0.path, $0.contentType) }) == expected)
        for file in WebAssets.files {
            for variant in [file.path, file.path + "/", file.path + "?v=1", file.path + "#top"] {
                let asset = try #require(WebAssets.asset(for: variant), "\(variant)")
                #expect(asset.contentType == file.contentType && asset.body == file.body, "\(variant)")
            }
        }
        for missing in ["/", "/static", "/static/", "/login.html", "/app.js", "/web/app.js", "/Users", "/users//"] {
            #expect(WebAssets.asset(for: missing) == nil, "\(missing)")
        }
    }

    /// Each page file repeats the head and the top bar (so what a file holds is what its path serves);
    /// this keeps the copies from drifting apart.
    @Test func pagesShareOneHeadAndTopBar() throws {
        let pages = WebAssets.files.filter { $0.name.hasSuffix(".html") }
        #expect(pages.count > 1)
        func block(_ text: String, from start: String, to end: String) -> String? {
            guard let lower = text.range(of: start), let upper = text.range(of: end, range: lower.upperBound..<text.endIndex)
            else { return nil }
            return String(text[lower.lowerBound..<upper.upperBound])
        }
        let heads = try pages.map { page in
            let head = try #require(block(page.body, from: "<!doctype html>", to: "</head>"), "web/\(page.name)")
            return head.replacingOccurrences(of: #"<title>[^<]*</title>"#, with: "<title/>", options: .regularExpression)
        }
        #expect(Set(heads).count == 1, "the <head> differs between pages beyond its <title>")

        var topBars: Set<String> = []
        for page in pages where page.name != "login.html" {
            let bar = try #require(block(page.body, from: #"<header class="topbar">"#, to: "</header>"), "web/\(page.name)")
            let id = String(page.path.dropFirst())
            #expect(page.body.contains(#"<body data-page="\#(id)">"#), "web/\(page.name)")
            #expect(bar.components(separatedBy: #" aria-current="page""#).count == 2, "web/\(page.name): one current link")
            #expect(bar.contains(#"id="nav-\#(id)" data-testid="nav-\#(id)" href="/\#(id)" aria-current="page">"#),
                    "web/\(page.name) marks its own link as current")
            topBars.insert(bar.replacingOccurrences(of: #" aria-current="page""#, with: ""))
        }
        #expect(topBars.count == 1, "the top bar differs between pages beyond which link is current")
    }
}
