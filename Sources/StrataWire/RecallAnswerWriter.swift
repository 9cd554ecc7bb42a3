import StrataCore
import StrataEngine

/// Writes a recall answer, `{"hits": [...]}`, straight to JSON text: the same bytes as
/// `Wire.text(Answer.recall(hits))`, without building the value
/// tree first.
///
/// Why: through the C ABI every recall answer is written as JSON. Building dictionaries per hit,
/// then sorting and looking up their keys again, cost ~20 µs for ten hits: 7% of a recall over
/// 10k memories, more than the whole rest of the ABI. Keys are written in sorted order here
/// (the order `JSONWriter` produces), so the text is identical.
enum RecallAnswerWriter {
    static func write(_ hits: [Hit]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + hits.count * 320)
        append("{\"hits\":", &out)
        if hits.isEmpty {
            append("[]}", &out)
            return out
        }
        out.append(UInt8(ascii: "["))
        for (i, hit) in hits.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            let m = hit.memory
            append("{\"category\":", &out)
            JSONWriter.writeString(m.category, into: &out)
            append(",\"content\":", &out)
            JSONWriter.writeString(m.content, into: &out)
            append(",\"id\":", &out)
            JSONWriter.writeString(m.id, into: &out)
            append(",\"metadata\":", &out)
            JSONWriter.write(.object(m.metadata), into: &out)
            append(",\"scope\":", &out)
            JSONWriter.writeString(m.scope.description, into: &out)
            append(",\"score\":", &out)
            JSONWriter.writeNumber(hit.score, into: &out)
            append(",\"scores\":{\"access\":", &out)
            let s = hit.scores
            JSONWriter.writeNumber(s.access, into: &out)
            append(",\"fused\":", &out)
            JSONWriter.writeNumber(s.fused, into: &out)
            append(",\"importance\":", &out)
            JSONWriter.writeNumber(s.importance, into: &out)
            if let k = s.kernel {
                append(",\"kernel\":", &out)
                JSONWriter.writeNumber(k, into: &out)
            }
            append(",\"keyword\":", &out)
            optional(s.keyword, &out)
            append(",\"recency\":", &out)
            JSONWriter.writeNumber(s.recency, into: &out)
            append(",\"vector\":", &out)
            optional(s.vector, &out)
            append("},\"tier\":", &out)
            JSONWriter.writeString(m.tier, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        append("]}", &out)
        return out
    }

    private static func optional(_ x: Double?, _ out: inout [UInt8]) {
        if let x { JSONWriter.writeNumber(x, into: &out) } else { append("null", &out) }
    }

    @inline(__always)
    private static func append(_ s: StaticString, _ out: inout [UInt8]) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }
}

extension Engine {
    /// Stores `count` memories with no fields but their vectors (the C fast path with a NULL
    /// request), answering the JSON text directly without decoding a request per item:
    /// `{"deduplicated":[...],"ids":[...]}`, the bytes of `Wire.text(Answer.store(_, batch: true))`.
    public func storeVectorsAnswerText(_ vectors: [[Float]]) throws(StrataError) -> [UInt8] {
        let outcomes = try store(Array(repeating: NewMemory(""), count: vectors.count), vectors: vectors)
        var out: [UInt8] = []
        out.reserveCapacity(32 + outcomes.count * 30)
        func list(_ ids: [String]) {
            out.append(UInt8(ascii: "["))
            for (i, id) in ids.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(id, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(contentsOf: "{\"deduplicated\":".utf8)
        list(outcomes.filter(\.deduplicated).map(\.id))
        out.append(contentsOf: ",\"ids\":".utf8)
        list(outcomes.map(\.id))
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Like `recallJSON`, answering the JSON text directly (the C ABI's form): the bytes of
    /// `Wire.text(recallJSON(request))`.
    public func recallAnswerText(_ request: JSONValue, vector: [Float]? = nil) throws(StrataError) -> [UInt8] {
        var q = try RecallQuery(json: request, path: "recall request")
        q.vector = vector
        return RecallAnswerWriter.write(try recall(q))
    }
}
