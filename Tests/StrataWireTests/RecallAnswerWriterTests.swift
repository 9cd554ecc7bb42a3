import StrataCore
import StrataEngine
@testable import StrataWire
import Testing

@Suite struct RecallAnswerTests {
    @Test func theDirectWriterProducesExactlyTheJSONWritersText() throws {
        let e = try Engine(configuration: EngineConfiguration(json: ["dedupe": ["enabled": false]]))
        try e.store(NewMemory("plain words about tea", metadata: ["user": "alice", "n": 3, "nested": ["a": [1, 2.5, true, .null]]]))
        try e.store(NewMemory("quotes \" and \\ backslashes\nand a tab\t and \u{01} control, été, 日本", scope: try ScopePath("org/a")))
        try e.store(NewMemory("no keyword match here at all", importance: 0.9))
        for query in ["tea", "quotes backslashes", "zzz nothing"] {
            let hits = try e.recall(RecallQuery(query, k: 10))
            let direct = String(decoding: RecallAnswerWriter.write(hits), as: UTF8.self)
            let viaTree = Wire.text(Answer.recall(hits))
            #expect(direct == viaTree, "query \(query)")
            #expect(try JSONParser.parse(direct) == Answer.recall(hits))
        }
        #expect(String(decoding: RecallAnswerWriter.write([]), as: UTF8.self) == #"{"hits":[]}"#)
    }
}

@Suite struct StoreAnswerTests {
    @Test func theDirectStoreAnswerMatchesTheJSONWriter() throws {
        let e = try Engine(configuration: EngineConfiguration(json: ["embedder": ["backend": "hashing", "options": ["dimension": 8]]]))
        let v: [Float] = [1, 0, 0, 0, 0, 0, 0, 0]
        // The second vector repeats the first: de-duplicated into it (no words: only the cosine counts).
        let text = String(decoding: try e.storeVectorsAnswerText([v, v, [0, 1, 0, 0, 0, 0, 0, 0]]), as: UTF8.self)
        let parsed = try JSONParser.parse(text)
        let ids = try #require(parsed.objectValue?["ids"]?.arrayValue)
        #expect(ids.count == 3 && ids[0] == ids[1] && ids[0] != ids[2])
        #expect(parsed.objectValue?["deduplicated"] == .array([ids[0]]))
        #expect(text == Wire.text(parsed), "keys in the writer's order, no spaces")
    }
}
