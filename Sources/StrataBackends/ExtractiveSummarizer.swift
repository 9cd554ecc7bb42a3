import StrataCore

/// The built-in summarizer: picks the most central sentences (the ones most similar to all the
/// others, by cosine of word counts) until the length budget is spent, and writes them in their
/// original order. No model, no network.
///
/// Thread-safe (no mutable state).
public final class ExtractiveSummarizer: Summarizer {
    public let name = "extractive"
    public let defaultMaxCharacters: Int

    public init(defaultMaxCharacters: Int = 400) throws(StrataError) {
        guard defaultMaxCharacters >= 16 else {
            throw StrataError(.invalidConfig, "extractive summarizer: max_chars must be at least 16, got \(defaultMaxCharacters)")
        }
        self.defaultMaxCharacters = defaultMaxCharacters
    }

    /// From JSON options: {"max_chars": N} (default 400).
    public convenience init(options: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(options, path: path, code: .invalidConfig)
        let maxChars = try r.optionalInt("max_chars", in: 16...1_000_000) ?? 400
        try r.finish()
        try self.init(defaultMaxCharacters: maxChars)
    }

    public func summarize(_ texts: [String], maxCharacters: Int) throws(StrataError) -> String {
        guard maxCharacters >= 0 else { throw StrataError(.invalidArgument, "max_chars must not be negative") }
        let budget = maxCharacters == 0 ? defaultMaxCharacters : maxCharacters
        let sentences = texts.flatMap(Self.sentences)
        guard !sentences.isEmpty else { return "" }
        let bags = sentences.map(Self.bag)
        let n = sentences.count
        var centrality = [Double](repeating: 0, count: n)
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let c = Self.cosine(bags[i], bags[j])
                centrality[i] += c
                centrality[j] += c
            }
        }
        let order = (0..<n).sorted { centrality[$0] > centrality[$1] || (centrality[$0] == centrality[$1] && $0 < $1) }
        var chosen: [Int] = []
        var used = 0
        for i in order {
            let length = sentences[i].count + (chosen.isEmpty ? 0 : 1)
            guard used + length <= budget else { continue }
            // Skip near-repeats of a sentence already chosen: a summary says each thing once.
            if chosen.contains(where: { Self.cosine(bags[$0], bags[i]) > 0.9 }) { continue }
            chosen.append(i)
            used += length
        }
        if chosen.isEmpty { return Self.truncate(sentences[order[0]], to: budget) }
        return chosen.sorted().map { sentences[$0] }.joined(separator: " ")
    }

    /// Splits on sentence-ending punctuation followed by white space, and on line breaks.
    static func sentences(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var previousEnds = false
        for ch in text {
            if ch.isNewline {
                flush(&current, into: &out)
                previousEnds = false
                continue
            }
            if previousEnds && ch.isWhitespace {
                flush(&current, into: &out)
                previousEnds = false
                continue
            }
            current.append(ch)
            previousEnds = ch == "." || ch == "!" || ch == "?"
        }
        flush(&current, into: &out)
        return out
    }

    private static func flush(_ s: inout String, into out: inout [String]) {
        let trimmed = s.trimmingCharacters()
        if !trimmed.isEmpty { out.append(trimmed) }
        s = ""
    }

    static func bag(_ s: String) -> [String: Double] {
        var b: [String: Double] = [:]
        for w in Tokenizer.words(s) { b[w, default: 0] += 1 }
        return b
    }

    static func cosine(_ a: [String: Double], _ b: [String: Double]) -> Double {
        var dot = 0.0
        for (w, x) in a { if let y = b[w] { dot += x * y } }
        let na = a.values.reduce(0) { $0 + $1 * $1 }, nb = b.values.reduce(0) { $0 + $1 * $1 }
        return na > 0 && nb > 0 ? dot / (na.squareRoot() * nb.squareRoot()) : 0
    }

    /// Cuts at a word boundary and marks the cut with an ellipsis.
    static func truncate(_ s: String, to budget: Int) -> String {
        guard s.count > budget else { return s }
        var cut = String(s.prefix(max(0, budget - 1)))
        if let space = cut.lastIndex(of: " ") { cut = String(cut[..<space]) }
        return cut + "…"
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
