@testable import StrataServer
import Testing

/// Tests Sources/StrataServer/OriginPolicy.swift: which Origin headers `/mcp` takes.
@Suite struct OriginPolicyTests {
    @Test func aRequestWithoutAnOriginIsAProgramsAndGoesOn() {
        #expect(OriginPolicy(allowed: []).allows(nil))
    }

    @Test func loopbackOriginsGoOnWithAnyPort() {
        let p = OriginPolicy(allowed: [])
        for o in ["http://localhost", "http://localhost:5173", "https://127.0.0.1:7700", "http://[::1]:80", "HTTP://LOCALHOST:1"] {
            #expect(p.allows(o), "\(o)")
        }
    }

    @Test func everyOtherOriginIsRefused() {
        let p = OriginPolicy(allowed: [])
        for o in ["http://evil.example", "http://evil.example:7700", "http://localhost.evil.example", "http://localhost:",
                  "http://localhost:80/x", "http://127.0.0.1.nip.io", "http://localhost:123456", "null", "", "file://localhost",
                  "ws://localhost:1", "http://127.0.0.2:7700"] {
            #expect(!p.allows(o), "\(o)")
        }
    }

    @Test func allowedOriginsMatchExactly() {
        let p = OriginPolicy(allowed: ["https://App.example"])
        #expect(p.allows("https://app.example"))
        #expect(!p.allows("https://app.example:443"))
        #expect(!p.allows("https://app.example.evil"))
        #expect(!p.allows("http://app.example"))
    }
}
