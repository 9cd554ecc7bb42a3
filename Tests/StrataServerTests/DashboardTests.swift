import Foundation
import Hummingbird
@testable import StrataServer
import Testing

/// Tests Sources/StrataServer/Dashboard.swift and DashboardAssets.swift: the compiled copy is the
/// repository's dashboard/ files, the page loads nothing from elsewhere and nothing inline, and
/// every asset goes out with its type and the policy. The page itself is tested in Chromium
/// (Tests/cli/test_dashboard.py).
@Suite struct DashboardTests {
    static let repository: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    static func file(_ name: String) throws -> String {
        try String(contentsOfFile: "\(repository)/dashboard/\(name)", encoding: .utf8)
    }

    @Test func assets__are_the_files_of_dashboard_byte_for_byte() throws {
        #expect(DashboardAssets.html == (try Self.file("index.html")), "run scripts/gen-dashboard")
        #expect(DashboardAssets.javascript == (try Self.file("dashboard.js")), "run scripts/gen-dashboard")
        #expect(DashboardAssets.css == (try Self.file("dashboard.css")), "run scripts/gen-dashboard")
    }

    @Test func page__loads_only_its_own_script_and_style_and_has_nothing_inline() {
        let html = DashboardAssets.html
        #expect(html.contains(#"<script src="/dashboard/dashboard.js" defer></script>"#))
        #expect(html.contains(#"<link rel="stylesheet" href="/dashboard/dashboard.css">"#))
        // One script element, empty; no style element, style attribute or inline handler.
        #expect(html.components(separatedBy: "<script").count == 2)
        #expect(!html.contains("<style") && !html.contains(" style=") && !html.contains(" onclick="))
        // Nothing from another origin (no CDN): every URL is a path of this server.
        for text in [html, DashboardAssets.javascript, DashboardAssets.css] {
            // The SVG namespace is a name, not a place the page loads from.
            let urls = text.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
            #expect(!urls.contains("http://") && !urls.contains("https://") && !urls.contains("@import"))
        }
        // The script never parses store text as HTML.
        #expect(!DashboardAssets.javascript.contains("innerHTML") && !DashboardAssets.javascript.contains("insertAdjacentHTML"))
    }

    @Test func response__carries_the_type_and_a_policy_without_inline_script() {
        let paths = Dashboard.assets.map(\.path)
        #expect(paths == ["/dashboard", "/memory/dashboard", "/dashboard/dashboard.js", "/dashboard/dashboard.css"])
        for asset in Dashboard.assets {
            let r = Dashboard.response(asset)
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == asset.contentType)
            #expect(r.headers[.init("X-Content-Type-Options")!] == "nosniff")
            let policy = r.headers[.init("Content-Security-Policy")!] ?? ""
            #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"))
            #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
        }
        #expect(Dashboard.assets[2].contentType.hasPrefix("text/javascript"))
        #expect(Dashboard.assets[3].contentType.hasPrefix("text/css"))
    }
}
