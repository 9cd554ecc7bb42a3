import StrataCore
import Testing

@Suite struct FilterTests {
    let doc: JSONValue = [
        "metadata": ["user": "alice", "age": 31, "tags": ["a", "b"], "nested": ["score": 0.7], "note": "hello world"],
        "scope": "org/a",
    ]

    func matches(_ f: JSONValue) throws -> Bool { try Filter.parse(f, prefix: ["metadata"]).matches(doc) }

    @Test(arguments: [
        (["user": "alice"], true), (["user": "bob"], false),
        (["age": ["$gt": 30]], true), (["age": ["$gte": 31]], true), (["age": ["$lt": 31]], false), (["age": ["$lte": 31]], true),
        (["age": ["$ne": 31]], false), (["missing": ["$ne": 1]], true),
        (["user": ["$in": ["bob", "alice"]]], true), (["user": ["$nin": ["alice"]]], false), (["missing": ["$nin": [1]]], true),
        (["note": ["$exists": true]], true), (["missing": ["$exists": false]], true), (["missing": ["$exists": true]], false),
        (["tags": ["$contains": "b"]], true), (["tags": ["$contains": "z"]], false), (["note": ["$contains": "lo wo"]], true),
        (["nested.score": ["$gte": 0.5, "$lt": 0.8]], true), (["nested.score": ["$gte": 0.5, "$lt": 0.6]], false),
        (["$or": [["user": "bob"], ["age": 31]]], true), (["$and": [["user": "alice"], ["age": 30]]], false),
        (["$not": ["user": "bob"]], true), (["user": "alice", "age": 99], false),
        (["age": ["$gt": "30"]], false),  // a number never orders against a string
    ] as [(JSONValue, Bool)])
    func evaluatesEachOperator(filter: JSONValue, expected: Bool) throws {
        #expect(try matches(filter) == expected, "\(JSONWriter.string(filter))")
    }

    @Test(arguments: [
        (["age": ["$bogus": 1]], "$bogus"),
        (["$xor": [["a": 1]]], "$xor"),
        (["$or": []], "$or"),
        (["age": ["$in": 3]], "$in"),
        (["age": ["$gt": true]], "$gt"),
        (["a..b": 1], "a..b"),
        (["a": ["$gt": 1, "plain": 2]], "mixes operators"),
    ] as [(JSONValue, String)])
    func invalidFiltersNameTheBadPart(filter: JSONValue, culprit: String) {
        #expect {
            try Filter.parse(filter, what: "recall.filter")
        } throws: { error in
            let e = error as! StrataError
            return e.code == .invalidFilter && e.message.contains(culprit) && e.message.contains("recall.filter")
        }
    }

    @Test func canonicalJSONParsesBackToTheSameFilter() throws {
        let f = try Filter.parse(["$or": [["user": "a"], ["n": ["$gte": 2, "$lt": 5]]], "x": ["$exists": true]], prefix: ["metadata"])
        #expect(try Filter.parse(f.json) == f)
    }

    @Test func memoryFieldsResolveLikeTheirRecordJSON() throws {
        let m = Memory(id: "m1", content: "c", metadata: ["k": ["deep": 2]], scope: try ScopePath("org/x"), visibility: .shared,
                       createdAt: Timestamp(milliseconds: 0))
        for path in [["metadata", "k", "deep"], ["scope"], ["parent_scope"], ["visibility"], ["tier"], ["created_at"], ["expires_at"]] {
            #expect(m.filterValue(at: path) == m.json.value(at: path).flatMap { $0.isNull ? Optional<JSONValue>.none : $0 }, "\(path)")
        }
    }
}
