import StrataCore
import StrataEngine
import StrataTesting
import Testing

/// `Engine.list`: what is in view, oldest first, a page at a time, never counted as an access.
@Suite struct ListTests {
    let clock = ManualClock()

    func engine() throws -> Engine {
        try Engine(configuration: EngineConfiguration(json: ["dedupe": ["enabled": false]]), clock: clock)
    }

    @Test func listsOldestFirstAndPagesWithTheTotal() throws {
        let e = try engine()
        var ids: [String] = []
        for i in 0..<5 {
            ids.append(try e.store(NewMemory("note \(i)", metadata: ["i": .number(Double(i))], scope: try ScopePath("org/a"))).id)
            clock.advance(hours: 1)
        }
        // Stored later but dated first: creation time orders, not the id.
        let old = try e.store(NewMemory("an old note", at: Timestamp(iso8601: "2025-01-01T00:00:00Z")!)).id
        let all = try e.list(MemoryListQuery())
        #expect(all.memories.map(\.id) == [old] + ids && all.total == 6)
        let page = try e.list(MemoryListQuery(limit: 2, offset: 2))
        #expect(page.memories.map(\.id) == Array(ids[1...2]) && page.total == 6)
        #expect(try e.list(MemoryListQuery(limit: 0)).memories.isEmpty)
        #expect(try e.list(MemoryListQuery(offset: 10)).memories.isEmpty)
        let filtered = try e.list(MemoryListQuery(filter: Filter.parse(["i": ["$gte": 3]], prefix: ["metadata"])))
        #expect(filtered.memories.map(\.id) == Array(ids[3...]) && filtered.total == 2)
        #expect(try e.list(MemoryListQuery(scope: ScopePath("org/a"))).total == 5, "the root's local memory is not in org/a's view")
        #expect(try e.list(MemoryListQuery(scope: ScopePath("org/b"))).total == 0)
    }

    @Test func idsSelectThoseThereAndListingIsNotAnAccess() throws {
        let e = try engine()
        let a = try e.store(NewMemory("alpha")).id
        let b = try e.store(NewMemory("beta")).id
        let found = try e.list(MemoryListQuery(ids: [b, "m-nope", a]))
        #expect(Set(found.memories.map(\.id)) == [a, b] && found.total == 2)
        #expect(try e.get(id: a).accessCount == 0)
    }

    @Test func expiredMemoriesAreOutOfView() throws {
        let e = try engine()
        try e.store(NewMemory("short lived", ttlSeconds: 60))
        try e.store(NewMemory("long lived"))
        clock.advance(hours: 1)
        #expect(try e.list(MemoryListQuery()).memories.map(\.content) == ["long lived"])
    }

    @Test func negativeLimitOrOffsetAndUnknownTiersAreRefused() throws {
        let e = try engine()
        for q in [MemoryListQuery(limit: -1), MemoryListQuery(offset: -1)] {
            #expect { try e.list(q) } throws: { ($0 as! StrataError).code == .invalidArgument }
        }
        let tiered = try Engine(configuration: EngineConfiguration(json: ["tiers": [["name": "hot"], ["name": "cold"]]]), clock: clock)
        #expect { try tiered.list(MemoryListQuery(tiers: ["warm"])) } throws: {
            ($0 as! StrataError).code == .invalidArgument && ($0 as! StrataError).message.contains("\"warm\" is not a configured tier")
        }
    }
}
