import Hummingbird

/// The dashboard: one page, its script and its style sheet (written in `dashboard/` in the
/// repository and compiled into the binary as `DashboardAssets`, so `strata serve` serves them
/// from any directory, offline). The page signs in with a token and reads `/v1` and
/// `/v1/events` as any client does; it holds no privilege of its own.
///
/// Served at `/dashboard` and at the first API's `/memory/dashboard`; the script and style sheet
/// at `/dashboard/dashboard.js` and `/dashboard/dashboard.css`. Every asset is sent with
/// `contentSecurityPolicy`: scripts, styles and connections from this origin only, no inline
/// script or style, no frames, no forms posting elsewhere.
enum Dashboard {
    /// One file of the page.
    struct Asset: Sendable {
        var path: String
        var contentType: String
        var text: String
    }

    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        + "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static let assets: [Asset] = [
        Asset(path: "/dashboard", contentType: "text/html; charset=utf-8", text: DashboardAssets.html),
        Asset(path: "/memory/dashboard", contentType: "text/html; charset=utf-8", text: DashboardAssets.html),
        Asset(path: "/dashboard/dashboard.js", contentType: "text/javascript; charset=utf-8", text: DashboardAssets.javascript),
        Asset(path: "/dashboard/dashboard.css", contentType: "text/css; charset=utf-8", text: DashboardAssets.css),
    ]

    static func add(to router: Router<BasicRequestContext>) {
        for asset in assets {
            router.get(RouterPath(asset.path)) { _, _ in Self.response(asset) }
        }
    }

    /// The asset with its type and the headers that keep the page to itself: the policy, no
    /// content sniffing, no referrer, and revalidation so a new binary's page is seen at once.
    static func response(_ asset: Asset) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.cacheControl] = "no-cache"
        headers[.init("Content-Security-Policy")!] = contentSecurityPolicy
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("Referrer-Policy")!] = "no-referrer"
        headers[.init("X-Frame-Options")!] = "DENY"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: asset.text)))
    }
}
