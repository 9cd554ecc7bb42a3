import StrataCore
@testable import StrataEngine
import Testing

/// `recall.fusion`: the fusion per embedder, its defaults, and strict keys.
@Suite struct FusionConfigurationTests {
    func configuration(_ text: String) throws(StrataError) -> EngineConfiguration {
        try EngineConfiguration(json: try JSONParser.parse(text, what: "test.json"), source: "test.json")
    }

    @Test func defaultsAreScoresForMiniLMAndRankFusionForTheRest() throws {
        let recall = EngineConfiguration().recall
        #expect(recall.fusion(forEmbedder: "minilm") == .scores(keywordWeight: 0.2, keywordSaturation: 8))
        #expect(recall.fusion(forEmbedder: "hashing") == .reciprocalRank(k: 10))
        #expect(recall.fusion(forEmbedder: "some-plugin") == .reciprocalRank(k: 10))
    }

    @Test func anEntryReplacesItsEmbedderOnlyAndRankFusionTakesRecallRRFK() throws {
        let c = try configuration("""
            {"recall": {"rrf_k": 30, "fusion": {
                "hashing": {"method": "scores", "keyword_weight": 0.8, "keyword_saturation": 2},
                "default": {"method": "scores", "keyword_weight": 0.25, "keyword_saturation": 4},
                "minilm": {"method": "rrf"}}}}
            """)
        #expect(c.recall.fusion(forEmbedder: "hashing") == .scores(keywordWeight: 0.8, keywordSaturation: 2))
        #expect(c.recall.fusion(forEmbedder: "minilm") == .reciprocalRank(k: 30))
        #expect(c.recall.fusion(forEmbedder: "openai") == .scores(keywordWeight: 0.25, keywordSaturation: 4))
        let kept = try configuration(#"{"recall": {"fusion": {"hashing": {"method": "rrf"}}}}"#)
        #expect(kept.recall.fusion(forEmbedder: "minilm") == .scores(keywordWeight: 0.2, keywordSaturation: 8))
    }

    @Test func theWrittenConfigurationStatesEveryEntryAndReadsBackTheSame() throws {
        let c = try configuration(#"{"recall": {"fusion": {"custom": {"method": "scores", "keyword_weight": 0.3, "keyword_saturation": 7}}}}"#)
        guard case .object(let top) = c.json, case .object(let recall)? = top["recall"], case .object(let fusion)? = recall["fusion"] else {
            Issue.record("no recall.fusion in \(c.json)")
            return
        }
        #expect(Set(fusion.keys) == ["minilm", "hashing", "default", "custom"])
        #expect(fusion["minilm"] == .object(["method": .string("scores"), "keyword_weight": .number(0.2), "keyword_saturation": .number(8)]))
        #expect(fusion["hashing"] == .object(["method": .string("rrf")]))
        #expect(try EngineConfiguration(json: c.json) == c)
    }

    @Test(arguments: [
        (#"{"method": "scores", "keyword_weight": 0.1, "keyword_saturation": 5, "vector_weight": 0.9}"#, "unknown key test.json.recall.fusion.minilm.vector_weight"),
        (#"{"method": "rrf", "keyword_weight": 0.1}"#, "unknown key test.json.recall.fusion.minilm.keyword_weight"),
        (#"{"method": "linear"}"#, "test.json.recall.fusion.minilm.method must be one of \"rrf\", \"scores\""),
        (#"{"keyword_weight": 0.1}"#, "test.json.recall.fusion.minilm.method is required"),
        (#"{"method": "scores", "keyword_saturation": 5}"#, "test.json.recall.fusion.minilm.keyword_weight is required with method \"scores\""),
        (#"{"method": "scores", "keyword_weight": 0.1}"#, "test.json.recall.fusion.minilm.keyword_saturation is required with method \"scores\""),
        (#"{"method": "scores", "keyword_weight": 1.5, "keyword_saturation": 5}"#, "test.json.recall.fusion.minilm.keyword_weight must be in 0.0...1.0"),
        (#"{"method": "scores", "keyword_weight": 0.1, "keyword_saturation": 0}"#, "test.json.recall.fusion.minilm.keyword_saturation must be in"),
        (#""scores""#, "test.json.recall.fusion.minilm must be an object"),
    ])
    func aBadEntryIsInvalidConfigNamingTheKey(entry: String, message: String) throws {
        let error = #expect(throws: StrataError.self) {
            try configuration(#"{"recall": {"fusion": {"minilm": "# + entry + "}}}")
        }
        #expect(error?.code == .invalidConfig)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test func fusionMustBeAnObject() throws {
        let error = #expect(throws: StrataError.self) { try configuration(#"{"recall": {"fusion": []}}"#) }
        #expect(error?.code == .invalidConfig && error?.message.contains("test.json.recall.fusion must be an object") == true)
    }
}
