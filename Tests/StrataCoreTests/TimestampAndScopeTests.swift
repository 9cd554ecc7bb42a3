import StrataCore
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-11-22T03:59:00.000Z", Int64(1_795_319_940_000)),
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("2000-02-29T12:00:00.5Z", Int64(951_825_600_500)),
        ("2026-11-22T05:59:00+02:00", Int64(1_795_319_940_000)),
        ("1969-12-31T23:59:59.999Z", Int64(-1)),
        ("2026-11-22", Int64(1_795_305_600_000)),
        // Python's isoformat writes microseconds: the digits past milliseconds are cut (this
        // trapped before: a descending range).
        ("2026-11-22T03:59:00.123456+00:00", Int64(1_795_319_940_123)),
        ("2026-11-22T03:59:00.0000000001Z", Int64(1_795_319_940_000)),
    ])
    func parsesISO8601(text: String, ms: Int64) {
        #expect(Timestamp(iso8601: text)?.milliseconds == ms)
    }

    @Test(arguments: ["2026-13-01T00:00:00Z", "2026-11-22T03:59:00", "yesterday", "2026-11-22T25:00:00Z", "2026-11-22T03:59:00.Z",
                            // no silent roll-over into the next month, no impossible zones
                            "2024-02-30T00:00:00Z", "2023-02-29T12:00:00Z", "2024-04-31T00:00:00Z",
                            "2024-01-01T00:00:00+25:00", "2024-01-01T00:00:00+05:99"])
    func rejectsWhatIsNotAnISOTimeWithAZone(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test func formatsAndRoundTrips() {
        for ms: Int64 in [0, 1, 999, 1_795_319_940_123, -86_400_001, 4_102_444_800_000] {
            let t = Timestamp(milliseconds: ms)
            #expect(Timestamp(iso8601: t.iso8601) == t, "\(t.iso8601)")
        }
        #expect(Timestamp(milliseconds: 1_795_319_940_007).iso8601 == "2026-11-22T03:59:00.007Z")
    }
}

@Suite struct ScopeTests {
    @Test func parsesPathsAndRefusesEmptyComponents() throws {
        #expect(try ScopePath("org/planner").parent == ScopePath("org"))
        #expect(ScopePath.root.parent == nil)
        #expect(throws: StrataError.self) { try ScopePath("org//x") }
        #expect(throws: StrataError.self) { try ScopePath("/org") }
    }

    @Test func visibilityFollowsTheTree() throws {
        let org = try ScopePath("org"), planner = try ScopePath("org/planner")
        let researcher = try ScopePath("org/planner/researcher"), assistant = try ScopePath("org/assistant")
        // LOCAL: only the node itself.
        #expect(planner.canSee(owner: planner, visibility: .local))
        #expect(!org.canSee(owner: planner, visibility: .local))
        #expect(!researcher.canSee(owner: planner, visibility: .local))
        // SHARED: the node, its parent, its children; not siblings or grandchildren.
        #expect(org.canSee(owner: planner, visibility: .shared))
        #expect(researcher.canSee(owner: planner, visibility: .shared))
        #expect(!assistant.canSee(owner: planner, visibility: .shared))
        #expect(!org.canSee(owner: researcher, visibility: .shared))
        // GLOBAL: everyone.
        #expect(assistant.canSee(owner: researcher, visibility: .global))
    }
}
