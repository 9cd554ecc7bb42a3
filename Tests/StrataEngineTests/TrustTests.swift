import StrataCore
import StrataEngine
import StrataTesting
import Testing

/// Issue 13 at the engine: scopes hold when forgetting, and values that would silently
/// mis-answer are refused with the culprit named. Each test fails on a one-line loosening of
/// its rule.
@Suite struct TrustTests {
    let clock = ManualClock()

    func engine(_ json: JSONValue = ["dedupe": ["enabled": false]]) throws -> Engine {
        try Engine(configuration: EngineConfiguration(json: json), clock: clock)
    }

    /// A small agent tree with every visibility.
    func tree(_ e: Engine) throws -> [String: String] {
        let rows: [(String, String, Visibility)] = [
            ("global from a", "org/a", .global), ("shared by org", "org", .shared), ("local of b", "org/b", .local),
            ("shared by b", "org/b", .shared), ("shared by b's child", "org/b/c", .shared), ("local of c", "org/b/c", .local),
            ("local of a", "org/a", .local), ("root global", "", .global),
        ]
        var ids: [String: String] = [:]
        for (text, scope, visibility) in rows {
            ids[text] = try e.store(NewMemory(text, scope: try ScopePath(scope), visibility: visibility)).id
        }
        return ids
    }

    @Test func forgettingAsANodeRemovesOnlyWhatTheNodeOwns() throws {
        let e = try engine()
        let ids = try tree(e)
        let node = try ScopePath("org/b")
        // org/b sees five of these (two global, its parent's shared, its own two, its child's
        // shared): it owns two.
        #expect(try e.recall(RecallQuery("shared local global", k: 20, scope: node)).count == 6)
        let forgotten = try e.forget(filter: .always, scope: node, all: true)
        #expect(Set(forgotten) == [ids["local of b"]!, ids["shared by b"]!])
        #expect(try e.stats().memories == 6)
        for text in ["global from a", "shared by org", "shared by b's child", "root global"] {
            #expect(try e.get(id: ids[text]!).content == text, "\(text) was only visible to org/b")
        }
    }

    @Test func aFilterWithNoConditionForgetsOnlyWithAll() throws {
        let e = try engine()
        _ = try tree(e)
        for json: JSONValue in [[:], ["$or": [[:]]], ["$and": [[:], ["$or": [[:]]]]]] {
            let filter = try Filter.parse(json, prefix: ["metadata"])
            #expect(filter.isAlways, "\(json) has no condition")
            #expect { try e.forget(filter: filter) } throws: { ($0 as? StrataError)?.code == .invalidArgument }
        }
        #expect(!(try Filter.parse(["$or": [[:], ["user": "x"]]])).isNever)
        #expect(try e.stats().memories == 8)
        #expect(try e.forget(filter: try Filter.parse([:], prefix: ["metadata"]), scope: try ScopePath("org/a"), all: true).count == 2)
        #expect(try e.stats().memories == 6)
    }

    @Test func recallAndCanSeeAreOneRule() throws {
        let e = try engine()
        let ids = try tree(e)
        let owners: [String: (ScopePath, Visibility)] = try Dictionary(uniqueKeysWithValues: ids.map { text, id in
            let m = try e.get(id: id)
            return (id, (m.scope, m.visibility))
        })
        for viewer in ["", "org", "org/a", "org/b", "org/b/c", "org/b/c/d", "other"] {
            let node = try ScopePath(viewer)
            let seen = Set(try e.recall(RecallQuery("shared local global root", k: 50, scope: node)).map(\.memory.id))
            let expected = Set(owners.filter { node.canSee(owner: $0.value.0, visibility: $0.value.1) }.map(\.key))
            #expect(seen == expected, "viewer \(viewer)")
        }
    }

    @Test func vectorsWhoseScoresWouldOverflowAreRefusedNamingTheVector() throws {
        let e = try engine(["embedder": ["backend": "hashing", "options": ["dimension": 8]], "dedupe": ["enabled": false]])
        let huge: [Float] = [3e38, 1, 1, 1, 0, 0, 0, 0]
        #expect { try e.store([NewMemory("a"), NewMemory("b")], vectors: [[1, 0, 0, 0, 0, 0, 0, 0], huge]) } throws: { error in
            let e = error as? StrataError
            return e?.code == .invalidVector && e!.message.contains("vector 1") && e!.message.contains("squared norm")
        }
        #expect(try e.stats().memories == 0)
        // Just under the bound is stored, and scores stay finite.
        let edge = Float((Vectors.maximumSquaredNorm * 0.99).squareRoot())
        let id = try e.store([NewMemory("edge")], vectors: [[edge, 0, 0, 0, 0, 0, 0, 0]])[0].id
        let hit = try #require(try e.recall(RecallQuery(vector: [edge, 0, 0, 0, 0, 0, 0, 0], k: 1)).first)
        #expect(hit.memory.id == id && hit.score.isFinite && (hit.scores.vector ?? .nan).isFinite)
        #expect { try e.recall(RecallQuery(vector: huge, k: 1)) } throws: { ($0 as? StrataError)?.code == .invalidVector }
    }

    @Test func contentWithANulIsRefusedWithItsOffset() throws {
        let e = try engine()
        #expect { try e.store(NewMemory("before\u{0}after")) } throws: { error in
            let e = error as? StrataError
            return e?.code == .invalidArgument && e!.message.contains("byte offset 6")
        }
        let id = try e.store(NewMemory("clean")).id
        #expect { try e.update(MemoryUpdate(id: id, content: "x\u{0}")) } throws: { ($0 as? StrataError)?.code == .invalidArgument }
        #expect(try e.get(id: id).content == "clean")
    }

    /// Updating a memory to empty content was taken (and the empty memory then ranked first for
    /// any query); a store refuses empty content, so an update does too, on every face.
    @Test func anUpdateToEmptyContentIsRefused() throws {
        let e = try engine()
        let id = try e.store(NewMemory("clean")).id
        #expect { try e.update(MemoryUpdate(id: id, content: "")) } throws: { ($0 as? StrataError)?.code == .invalidArgument }
        #expect(try e.get(id: id).content == "clean")
        #expect(try e.history(id: id).count == 1)
    }

    @Test func aMemoryDatedMoreThanADayAheadIsRefused() throws {
        let e = try engine()
        let now = clock.now()
        #expect { try e.store(NewMemory("future", at: now.adding(seconds: Engine.maximumFutureSkewSeconds + 1))) } throws: { error in
            (error as? StrataError)?.code == .invalidArgument
        }
        #expect { try e.store(NewMemory("far", at: Timestamp(iso8601: "9999-01-01T00:00:00Z")!)) } throws: { _ in true }
        let ok = try e.store(NewMemory("clock skew", at: now.adding(seconds: Engine.maximumFutureSkewSeconds)))
        #expect(try e.get(id: ok.id).createdAt == now.adding(seconds: Engine.maximumFutureSkewSeconds))
        #expect(try e.stats().memories == 1)
    }

    /// `Engine.check` is the rule `store` applies, so a caller validating ahead (`strata import
    /// --check`) refuses exactly what a store would, naming the item its own way.
    @Test func checkRefusesWhatStoreRefusesNamingTheItem() throws {
        let now = clock.now()
        let refused: [(NewMemory, String)] = [
            (NewMemory("a\u{0}b"), "line 7: content holds a NUL character (U+0000) at byte offset 1"),
            (NewMemory("future", at: Timestamp(iso8601: "9999-01-01T00:00:00Z")!), "line 7: created_at 9999-01-01T00:00:00.000Z is more than a day ahead"),
        ]
        let e = try engine()
        for (item, message) in refused {
            #expect { try Engine.check(item, what: "line 7", atName: "created_at", now: now) } throws: { error in
                let e = error as? StrataError
                return e?.code == .invalidArgument && e!.message.contains(message)
            }
            #expect { try e.store([NewMemory("fine"), item]) } throws: { ($0 as? StrataError)?.message.hasPrefix("item 1: ") == true }
        }
        try Engine.check(NewMemory("fine", at: now.adding(seconds: Engine.maximumFutureSkewSeconds)), what: "line 7", now: now)
        #expect(try e.stats().memories == 0)
    }

    @Test func aTierNoRuleKnowsIsRefusedWhereverItIsNamed() throws {
        let e = try engine(["tiers": [["name": "working"], ["name": "archive"]], "dedupe": ["enabled": false]])
        #expect { try e.store(NewMemory("lost in limbo", tier: "nope")) } throws: { error in
            let e = error as? StrataError
            return e?.code == .invalidArgument && e!.message.contains("\"nope\"") && e!.message.contains("working, archive")
        }
        #expect { try e.recall(RecallQuery("limbo", tiers: ["nope"])) } throws: { ($0 as? StrataError)?.code == .invalidArgument }
        #expect { try e.anomalies(AnomalyQuery(tiers: ["nope"])) } throws: { ($0 as? StrataError)?.code == .invalidArgument }
        let id = try e.store(NewMemory("kept where rules apply", tier: "archive")).id
        #expect(try e.recall(RecallQuery("kept rules", tiers: ["archive"])).map(\.memory.id) == [id])
        #expect(try e.stats().memories == 1)
        // Without configured tiers a tier is a free label, as before.
        let free = try engine()
        #expect(try free.get(id: try free.store(NewMemory("labelled", tier: "anything")).id).tier == "anything")
    }
}
