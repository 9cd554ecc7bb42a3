import Glibc
import StrataBackends
import StrataCore
import StrataEngine
import StrataTesting
import Testing

@Suite struct LifecycleRulesTests {
    let clock = ManualClock()

    func engine(_ json: JSONValue) throws -> Engine {
        try Engine(configuration: EngineConfiguration(json: json.setting("dedupe", ["enabled": false])), clock: clock)
    }

    /// A unit vector near `centre` (dimension 256), nudged by `noise` in a direction of its own.
    func near(_ centre: Int, _ noise: Float, _ salt: Int) -> [Float] {
        var v = [Float](repeating: 0, count: 256)
        v[centre] = 1
        v[(centre + 17 + salt * 31) % 256] = noise
        return Vectors.normalized(v)
    }

    @Test func nearDuplicatesMergeIntoTheMostValuableMember() throws {
        let e = try engine(["lifecycle": ["redundancy": ["threshold": 0.9]]])
        let scope = try ScopePath("a")
        let ids = try e.store([
            NewMemory("", metadata: ["source": "email"], scope: scope, importance: 0.4),
            NewMemory("", metadata: ["thread": 7], scope: scope, importance: 0.9),
            NewMemory("", metadata: ["source": "chat"], scope: scope, importance: 0.5),
            NewMemory("", scope: try ScopePath("b"), importance: 0.5),
            NewMemory("", scope: scope, importance: 0.5),
        ], vectors: [near(3, 0.1, 1), near(3, 0.1, 2), near(3, 0.05, 3), near(3, 0.1, 4), near(9, 0, 0)]).map(\.id)
        _ = try e.recall(RecallQuery(vector: near(3, 0, 0), k: 10))
        let r = try e.metabolize()
        #expect(r.pruned.redundancy == 2, "\(r.moves)")
        let keeper = try e.get(id: ids[1])
        #expect(keeper.metadata == ["thread": 7, "source": "email"] || keeper.metadata == ["thread": 7, "source": "chat"])
        #expect(keeper.accessCount == 3, "access counts summed")
        #expect(try e.history(id: ids[1]).last?.reason.hasPrefix("merged 2 near-duplicate(s)") == true)
        for gone in [ids[0], ids[2]] {
            #expect(throws: StrataError.self) { try e.get(id: gone) }
            #expect(try e.history(id: gone).last?.reason.contains("merged into it") == true)
        }
        #expect(try e.get(id: ids[3]).id == ids[3], "another scope is never merged")
        #expect(try e.get(id: ids[4]).id == ids[4], "a different vector stays")
    }

    @Test func aPinnedNearDuplicateIsKeptAndKeepsTheOthers() throws {
        let e = try engine(["lifecycle": ["redundancy": ["threshold": 0.9]]])
        let ids = try e.store([NewMemory("", importance: 0.1, pinned: true), NewMemory("", importance: 0.9)],
                              vectors: [near(5, 0.1, 1), near(5, 0.1, 2)]).map(\.id)
        let r = try e.metabolize()
        #expect(r.pruned.redundancy == 1)
        #expect(try e.get(id: ids[0]).pinned)
        #expect(throws: StrataError.self) { try e.get(id: ids[1]) }
    }

    @Test func wordOverlapKeepsLexicallyCloseButDifferentFactsApart() throws {
        let e = try engine(["lifecycle": ["redundancy": ["threshold": 0.5, "min_word_overlap": 0.8]]])
        try e.store(NewMemory("invoice 13 from Acme was paid"))
        try e.store(NewMemory("invoice 19 from Acme was paid"))
        #expect(try e.metabolize().pruned.redundancy == 0)
    }

    @Test func nearDuplicatesFindTheSameClustersAsAnExhaustiveSearch() throws {
        var rng = SystemRandomNumberGenerator()
        var vectors: [[Float]] = []
        var truth: [Int] = []
        for c in 0..<150 {
            let centre = (0..<64).map { _ in Float.random(in: -1...1, using: &rng) }
            for _ in 0..<Int.random(in: 1...5, using: &rng) {
                vectors.append(Vectors.normalized(centre.map { $0 + Float.random(in: -0.05...0.05, using: &rng) }))
                truth.append(c)
            }
        }
        let found = NearDuplicates(threshold: 0.9).clusters(vectors, dimension: 64, groups: Array(repeating: 0, count: vectors.count))
        // Exhaustive components over the same graph.
        var label = Array(vectors.indices)
        func root(_ x: Int) -> Int { label[x] == x ? x : root(label[x]) }
        for i in vectors.indices {
            for j in (i + 1)..<vectors.count where Vectors.dot(vectors[i], vectors[j]) >= 0.9 {
                let a = root(i), b = root(j)
                if a != b { label[b] = a }
            }
        }
        var exact: [Int: [Int]] = [:]
        for i in vectors.indices { exact[root(i), default: []].append(i) }
        let expected = exact.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
        #expect(found == expected)
        #expect(expected.count > 50, "the data has clusters to find")
    }

    @Test func patternsCarrySeedStatisticsAndSurviveTheirSourcesBeingArchived() throws {
        let e = try engine(ConfigurationPresets.tiered)
        // Seed 004's confidence punishes spread in the outcome's own units: these profits spread
        // by 0.25, which with 4 successes in 5 gives 0.71, just over the 0.7 needed.
        let profits: [Double] = [1.0, 1.2, 0.8, 0.5, 1.1]
        for (i, p) in profits.enumerated() {
            let texts = ["swap on the stable pool at dawn", "midday swap into a busy pool", "USDC to DAI overnight",
                         "a small late exchange", "weekend trade at a quiet hour"]
            try e.store(NewMemory(texts[i], metadata: ["type": "trade", "action": "swap", "success": .bool(p > 0.6), "profit": .number(p)], category: "user_preferences"))
        }
        try e.store(NewMemory("bridge once", metadata: ["type": "trade", "action": "bridge", "success": true], category: "user_preferences"))
        let first = try e.metabolize()
        #expect(first.patterns == 1, "bridge has one occurrence, under the 3 needed")
        let pattern = try #require(try e.recall(RecallQuery("pattern swap", category: "patterns")).first?.memory)
        let mean = profits.reduce(0, +) / 5
        let spread = sqrt(profits.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5)
        let confidence = 0.3 * 0.5 + 0.5 * 0.8 + 0.2 / (1 + spread)
        #expect(pattern.metadata["occurrence_count"] == 5)
        #expect(pattern.metadata["success_rate"] == 0.8)
        #expect(abs((pattern.metadata["mean"]?.numberValue ?? 0) - mean) < 1e-9)
        #expect(abs((pattern.metadata["spread"]?.numberValue ?? 0) - spread) < 1e-9)
        #expect(abs((pattern.metadata["confidence"]?.numberValue ?? 0) - confidence) < 1e-9)
        #expect(pattern.tier == "archive" && pattern.category == "patterns")
        #expect(abs(pattern.importance - 0.8 * confidence) < 1e-9, "seed 004: success rate x confidence")
        // 31 days on, the trades pass hot, warm and cold and are folded into the pattern.
        clock.advance(hours: 24 * 31)
        let later = try e.metabolize()
        #expect(later.migrated["hot->archive"] == 6, "\(later.migrated)")
        let folded = try e.get(id: pattern.id)
        #expect(folded.metadata["occurrence_count"] == 5, "the occurrences outlive their memories")
        #expect(folded.metadata["confidence"] == pattern.metadata["confidence"])
        #expect(try e.stats().byCategory == ["patterns": 1])
        let reasons = later.moves.filter { $0.action == .archive }.map(\.reason)
        #expect(reasons.filter { $0.contains("archived into pattern \(pattern.id)") }.count == 5)
        #expect(reasons.filter { $0.contains("part of none") }.count == 1)
    }

    @Test func recallAlwaysIncludesTheWorkingTierAndNamedTiersOnlyWhenAsked() throws {
        let e = try engine([
            "tiers": [["name": "working", "recall": "always"], ["name": "long"], ["name": "vault", "recall": "named"]],
        ])
        let w = try e.store(NewMemory("the parking spot is B12", tier: "working")).id
        let l = try e.store(NewMemory("the parking garage opens at 6", tier: "long")).id
        let v = try e.store(NewMemory("the parking permit number is 5521", tier: "vault")).id
        let everything = try e.recall(RecallQuery("parking")).map(\.memory.id)
        #expect(Set(everything) == [w, l], "vault is searched only by name")
        #expect(Set(try e.recall(RecallQuery("parking", tiers: ["long"])).map(\.memory.id)) == [w, l], "working is always in")
        let named = try e.recall(RecallQuery("parking", tiers: ["vault"]))
        #expect(Set(named.map(\.memory.id)) == [w, v])
        #expect(named.first { $0.memory.id == v }?.memory.tier == "vault", "each hit reports its tier")
    }

    @Test func lifecycleSettingsWriteOutAndReadBack() throws {
        for (name, preset) in ConfigurationPresets.all {
            let c = try EngineConfiguration(json: preset, source: name)
            #expect(try EngineConfiguration(json: c.json) == c)
        }
    }

    @Test(arguments: [
        (JSONValue.object(["lifecycle": ["relevance": ["min_scor": 0.3]]]), "lifecycle.relevance.min_scor"),
        (.object(["lifecycle": ["redundancy": ["threshold": 2]]]), "lifecycle.redundancy.threshold"),
        (.object(["lifecycle": ["patterns": ["keys": []]]]), "lifecycle.patterns.keys"),
        (.object(["lifecycle": ["consolidation": ["from_tier": "nowhere"]]]), "consolidation.from_tier names tier \"nowhere\""),
        (.object(["tiers": [["name": "a"], ["name": "b"]], "lifecycle": ["consolidation": ["from_tier": "b"]]]), "is the last tier"),
        (.object(["lifecycle": ["relevance": ["exempt_tiers": ["hot"]]]]), "no tiers are configured"),
        (.object(["lifecycle": ["schedule_minutes": 0]]), "lifecycle.schedule_minutes"),
        (.object(["tiers": [["name": "a", "keep": ["min_importance": -1]]]]), "tiers[0].keep.min_importance"),
    ])
    func badLifecycleSettingsNameTheKey(config: JSONValue, culprit: String) {
        #expect { _ = try EngineConfiguration(json: config) } throws: { error in
            let e = error as! StrataError
            return e.code == .invalidConfig && e.message.contains(culprit)
        }
    }

    @Test func twoWeeksOfHourlyCyclesKeepEveryTierWithinItsBounds() throws {
        let e = try engine(ConfigurationPresets.metabolic.setting("dedupe", ["enabled": false]))
        let preset = try EngineConfiguration(json: ConfigurationPresets.metabolic)
        var stored = 0, lastLedger = 0
        var removedSeen = Set<String>()
        let token = e.subscribe { event in if event.kind == .pruned { _ = event } }
        defer { e.unsubscribe(token) }
        for hour in 0..<(24 * 14) {
            for k in 0..<3 {
                let scope = try ScopePath("agent\(hour % 4)")
                try e.store(NewMemory("hour \(hour) note \(k): observation \(hour * 3 + k) about job \(hour % 11)", scope: scope,
                                      importance: [0.3, 0.6, 0.9][k]))
                stored += 1
            }
            if hour % 5 == 0 { _ = try e.recall(RecallQuery("job \(hour % 11)")) }
            clock.advance(hours: 1)
            let r = try e.metabolize()
            #expect(r.errors.isEmpty)
            for m in r.moves where m.action != .migrate && m.action != .create && m.action != .update { removedSeen.insert(m.id) }
            let byTier = try e.stats().byTier
            for t in preset.tiers { if let cap = t.capacity { #expect((byTier[t.name] ?? 0) <= cap, "hour \(hour): \(t.name) \(byTier)") } }
            let ledger = try e.stats().lifecycle.cycles
            #expect(ledger == lastLedger + 1)
            lastLedger = ledger
        }
        // Every memory ever stored is either still here or has a history row saying why it left.
        let ids = try all(e)
        #expect(ids.allSatisfy { $0.createdAt <= clock.now() })
        for id in removedSeen.prefix(200) {
            let last = try #require(try e.history(id: id).last)
            #expect(last.event == .delete && !last.reason.isEmpty)
        }
        let totals = try e.stats().lifecycle
        #expect(totals.consolidated > 0 && totals.pruned.age > 0 && (totals.migrated["episodic->semantic"] ?? 0) > 0, "\(totals.migrated)")
        #expect((try e.stats().byTier["semantic"] ?? 0) > 0, "two weeks on, some episodes have settled into semantic memory")
    }

    func all(_ e: Engine) throws -> [Memory] {
        var out: [Memory] = []
        try e.store.scan(filter: nil) { (r: StoredRecord) throws(StrataError) -> Bool in
            out.append(r.memory)
            return true
        }
        return out
    }
}
