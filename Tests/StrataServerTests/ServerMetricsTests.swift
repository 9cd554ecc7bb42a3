import StrataCore
@testable import StrataServer
import Synchronization
import Testing

/// `/metrics`' memories per tier: counted when due only, a tier that empties reads 0, a failed
/// count keeps the last values.
@Suite struct ServerMetricsTests {
    struct Refused: Error {}

    /// Failed counts, across calls.
    final class Failures: Sendable {
        let count = Mutex(0)
    }

    static func text(_ m: ServerMetrics, _ counts: [String: Int]?, failures: Failures = Failures()) async -> String {
        String(decoding: await m.exposition(
            count: {
                guard let counts else { throw Refused() }
                return counts
            },
            onCountFailure: { _ in failures.count.withLock { $0 += 1 } }), as: UTF8.self)
    }

    @Test func aCountIsReusedUntilItIsDue() async {
        let m = ServerMetrics(tierCountSeconds: 3600)
        #expect(await Self.text(m, ["working": 2]).contains("strata_memories{tier=\"working\"} 2.0"))
        let again = await Self.text(m, ["working": 5])
        #expect(again.contains("strata_memories{tier=\"working\"} 2.0"), "not due: the store is not scanned again")
    }

    @Test func aTierThatEmptiesReadsZeroAndAFailedCountKeepsTheLast() async {
        let m = ServerMetrics(tierCountSeconds: 0)
        _ = await Self.text(m, ["working": 2, "episodic": 1])
        let emptied = await Self.text(m, ["working": 3])
        #expect(emptied.contains("strata_memories{tier=\"working\"} 3.0"))
        #expect(emptied.contains("strata_memories{tier=\"episodic\"} 0.0"))
        let failures = Failures()
        let failed = await Self.text(m, nil, failures: failures)
        #expect(failures.count.withLock { $0 } == 1)
        #expect(failed.contains("strata_memories{tier=\"working\"} 3.0"))
    }

    @Test func requestsAndEngineCallsAreCountedByTheirLabels() async throws {
        let m = ServerMetrics(tierCountSeconds: 0)
        m.request(route: "/v1/recall", method: "POST", status: 200, duration: .milliseconds(3))
        m.request(route: "/v1/recall", method: "POST", status: 200, duration: .milliseconds(30))
        m.request(route: "/v1/recall", method: "POST", status: 422, duration: .milliseconds(1))
        #expect(throws: StrataError.self) {
            try m.timed("store") { () throws(StrataError) -> Int in throw StrataError(.invalidArgument, "refused") }
        }
        let text = await Self.text(m, [:])
        #expect(text.contains("strata_http_requests_total{route=\"/v1/recall\",method=\"POST\",status=\"200\"} 2"))
        #expect(text.contains("strata_http_requests_total{route=\"/v1/recall\",method=\"POST\",status=\"422\"} 1"))
        #expect(text.contains("strata_http_request_duration_seconds_bucket{route=\"/v1/recall\",method=\"POST\",status=\"200\",le=\"0.005\"} 1"))
        #expect(text.contains("strata_engine_call_duration_seconds_count{verb=\"store\"} 1"), "a call that throws is timed too")
    }
}
