import StrataCore
import StrataEngine
import StrataTesting
import Testing

@Suite struct TierSettingsTests {
    @Test func theMetabolicPresetCarriesSeed001sNumbers() throws {
        let c = try EngineConfiguration(json: ConfigurationPresets.metabolic, source: "metabolic")
        #expect(c.tiers.map(\.name) == ["working", "session", "episodic", "semantic"])
        #expect(c.tiers.map(\.retentionHours) == [1, 24, 168, nil])
        #expect(c.tiers.map(\.capacity) == [10, 50, 200, nil])
        #expect(c.tiers[0].recall == .always && c.tiers[1].recall == .search)
        #expect(c.defaults.tier == "working")
        #expect(c.lifecycle.consolidation?.fromTier == "session", "seed 001: L2 sessions become L3 episodes")
    }

    @Test func theTieredPresetCarriesSeed004sNumbers() throws {
        let c = try EngineConfiguration(json: ConfigurationPresets.tiered, source: "tiered")
        #expect(c.tiers.map(\.name) == ["hot", "warm", "cold", "archive"])
        #expect(c.tiers.map(\.retentionHours) == [24, 168, 720, nil])
        #expect(c.tiers.map(\.capacity) == [1000, 5000, 10000, nil])
        #expect(c.tiers.map(\.compression) == [.none, .light, .summary, .patternOnly])
        // Seed 004's light compression keeps type, action, success and profit.
        #expect(c.tiers[1].keepFields == ["type", "action", "success", "profit"])
        #expect(c.lifecycle.relevance?.minScore == 0.3 && c.lifecycle.relevance?.exemptTiers == ["hot", "archive"])
        #expect(c.lifecycle.redundancy?.threshold == 0.85)
        #expect(c.lifecycle.patterns?.minOccurrences == 3 && c.lifecycle.patterns?.minConfidence == 0.7)
        #expect(c.lifecycle.outcome == .init(successField: "success", numericField: "profit"))
    }

    @Test func tiersWriteOutAndReadBackTheSame() throws {
        for (name, preset) in ConfigurationPresets.all {
            let c = try EngineConfiguration(json: preset, source: name)
            let again = try EngineConfiguration(json: c.json, source: "\(name) written out")
            #expect(again == c, "\(name)")
        }
        let promoted = TierSettings(name: "t", promote: .init(minImportance: 0.7, minAccessCount: 2, minAgeHours: 3), keep: .init(minImportance: 0.4))
        #expect(try TierSettings(json: promoted.json, path: "t") == promoted)
    }

    @Test(arguments: [
        (JSONValue.object(["name": "a", "compression": "heavy"]), "tiers[0].compression"),
        (.object(["name": "a", "capacity": -1]), "tiers[0].capacity"),
        (.object(["name": "a", "retention_hours": "1h"]), "tiers[0].retention_hours"),
        (.object(["name": "a", "recall": "sometimes"]), "tiers[0].recall"),
        (.object(["name": "a", "keep_fields": ["x"]]), "keep_fields"),
        (.object(["name": "a", "promote": ["min_importance": 2]]), "min_importance"),
        (.object(["name": "a", "promote": ["min_acess_count": 2]]), "min_acess_count"),
    ])
    func badTierRulesNameTheKey(tier: JSONValue, culprit: String) {
        #expect { _ = try EngineConfiguration(json: ["tiers": .array([tier])]) } throws: { error in
            let e = error as! StrataError
            return e.code == .invalidConfig && e.message.contains(culprit)
        }
    }
}

@Suite struct TierRecallTests {
    @Test func aTierWithRecallAlwaysIsSearchedEvenWhenTheRequestNamesOthers() throws {
        let e = try Engine(configuration: EngineConfiguration(json: ConfigurationPresets.metabolic.setting("dedupe", ["enabled": false])))
        let working = try e.store(NewMemory("the oven timer rings at noon")).id  // default tier: working
        let episodic = try e.store(NewMemory("last week the oven timer broke", tier: "episodic")).id
        let semantic = try e.store(NewMemory("oven timers count down", tier: "semantic")).id
        let hits = try e.recall(RecallQuery("oven timer", tiers: ["episodic"]))
        #expect(Set(hits.map(\.memory.id)) == [working, episodic], "working is always searched; semantic was not asked for")
        #expect(hits.first { $0.memory.id == working }?.memory.tier == "working", "each hit reports its tier")
        #expect(!hits.contains { $0.memory.id == semantic })
        #expect(Set(try e.recall(RecallQuery("oven timer")).map(\.memory.id)) == [working, episodic, semantic])
    }
}

@Suite struct CategorySettingsTests {
    @Test func theTieredPresetCarriesSeed004sSixCategories() throws {
        let c = try EngineConfiguration(json: ConfigurationPresets.tiered, source: "tiered")
        #expect(c.categories.map(\.name) == ["trades", "market_observations", "patterns", "failures", "opportunities", "user_preferences"])
        #expect(c.categories.map(\.retentionDays) == [30, 7, 365, 60, 3, nil])
        #expect(c.categories.map(\.importance) == [0.9, 0.6, 1.0, 0.8, 0.5, 1.0])
    }

    @Test func aMemoryStartsWithItsCategorysImportanceUnlessItBringsItsOwn() throws {
        let e = try Engine(configuration: EngineConfiguration(json: [
            "categories": [["name": "failures", "retention_days": 60, "importance": 0.8]], "dedupe": ["enabled": false],
        ]))
        #expect(try e.get(id: e.store(NewMemory("the deploy failed", category: "failures")).id).importance == 0.8)
        #expect(try e.get(id: e.store(NewMemory("it failed again", category: "failures", importance: 0.3)).id).importance == 0.3)
        #expect(try e.get(id: e.store(NewMemory("an unlisted category", category: "misc")).id).importance == 0.5)
    }

    @Test(arguments: [
        (JSONValue.array([["name": "a"], ["name": "a"]]), "used twice"),
        (.array([["name": "a", "importance": 1.5]]), "categories[0].importance"),
        (.array([["name": "a", "retention": 3]]), "retention"),
        (.array([["name": "a", "retention_days": -1]]), "retention_days"),
    ])
    func badCategoriesNameTheKey(categories: JSONValue, culprit: String) {
        #expect { _ = try EngineConfiguration(json: ["categories": categories]) } throws: { error in
            let e = error as! StrataError
            return e.code == .invalidConfig && e.message.contains(culprit)
        }
    }
}

@Suite struct ExpiredStatsTests {
    @Test func statsCountExpiredMemoriesApart() throws {
        let clock = ManualClock()
        let e = try Engine(configuration: EngineConfiguration(json: ["dedupe": ["enabled": false]]), clock: clock)
        try e.store(NewMemory("a note that lasts an hour", ttlSeconds: 3600))
        try e.store(NewMemory("a note that lasts"))
        var s = try e.stats()
        #expect(s.memories == 2 && s.expired == 0)
        clock.advance(hours: 2)
        s = try e.stats()
        #expect(s.memories == 1 && s.expired == 1, "the hour-long note expired and is counted apart")
        #expect(s.byTier == ["working": 1])
        #expect(try e.recall(RecallQuery("note lasts")).count == 1, "recall agrees with stats")
    }
}
