#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import Testing

@Suite struct KeywordIndexTests {
    @Test func ranksByBM25AndForgetsRemovedDocuments() {
        var index = KeywordIndex()
        index.add(id: "a", text: "the cat sat on the mat")
        index.add(id: "b", text: "cats and dogs and cats")
        index.add(id: "c", text: "cat cat cat")
        index.add(id: "d", text: "nothing relevant here")
        let hits = index.search("cat", k: 10)
        #expect(hits.map(\.id) == ["c", "a"], "the word 'cat' is in c (3 times, short) and a; 'cats' is another word")
        #expect(hits[0].score > hits[1].score)
        index.remove(id: "c")
        #expect(index.search("cat", k: 10).map(\.id) == ["a"])
        #expect(index.count == 3)
        index.add(id: "a", text: "replaced text about dogs")
        #expect(index.search("cat", k: 10).isEmpty)
        #expect(index.search("dogs", k: 10).map(\.id).sorted() == ["a", "b"])
    }

    @Test func stopWordsAloneMatchNothing() {
        var index = KeywordIndex()
        index.add(id: "a", text: "the plan for the launch")
        #expect(index.search("the and of", k: 5).isEmpty)
        #expect(index.search("the launch", k: 5).map(\.id) == ["a"])
    }

    @Test func acceptFilterIsApplied() {
        var index = KeywordIndex()
        for i in 0..<10 { index.add(id: "d\(i)", text: "shared word") }
        let hits = index.search("word", k: 3) { $0.hasSuffix("7") || $0.hasSuffix("3") }
        #expect(hits.map(\.id) == ["d3", "d7"], "equal scores: the smaller id first")
    }

    @Test func equalScoresRankByIDWhateverTheOrderOfAdds() {
        var index = KeywordIndex()
        for id in ["m2", "m10", "m1", "m3"] { index.add(id: id, text: "same words here") }
        #expect(index.search("words", k: 3).map(\.id) == ["m1", "m10", "m2"])
        index.add(id: "m1", text: "same words here")
        #expect(index.search("words", k: 3).map(\.id) == ["m1", "m10", "m2"], "re-adding an id keeps its place")
        #expect(index.search("words", k: 2, accept: { $0 != "m10" }).map(\.id) == ["m1", "m2"])
    }

    @Test func scoresAreOkapiBM25WithTheIndexsIDF() {
        var index = KeywordIndex()
        index.add(id: "a", text: "red red blue")
        index.add(id: "b", text: "blue green")
        index.add(id: "c", text: "green green green green")
        // n 3, lengths 3, 2, 4: average 3. "red" in 1 document, "blue" in 2.
        func term(_ tf: Double, _ df: Double, _ length: Double) -> Double {
            let idf = log(1 + (3 - df + 0.5) / (df + 0.5))
            return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / 3))
        }
        let hits = index.search("red blue", k: 2)
        #expect(hits.map(\.id) == ["a", "b"])
        #expect(abs(hits[0].score - (term(1, 2, 3) + term(2, 1, 3))) < 1e-12)
        #expect(abs(hits[1].score - term(1, 2, 2)) < 1e-12)
    }

    @Test func edgeCasesAnswerEmptyOrEverything() {
        var index = KeywordIndex()
        #expect(index.search("anything", k: 5).isEmpty, "an empty index")
        index.add(id: "only", text: "solitary document")
        #expect(index.search("", k: 5).isEmpty, "an empty query")
        #expect(index.search("  ,;  ", k: 5).isEmpty, "a query with no words")
        #expect(index.search("unknown words", k: 5).isEmpty, "words no document holds")
        #expect(index.search("solitary", k: 0).isEmpty, "k 0")
        #expect(index.search("solitary", k: 5).map(\.id) == ["only"], "one document, k beyond the matches")
        #expect(index.search("solitary unknown", k: 1).map(\.id) == ["only"], "an unknown word beside a known one")
        for i in 0..<300 { index.add(id: "d\(i)", text: "filler text \(i % 7 == 0 ? "solitary" : "")") }
        #expect(index.search("solitary", k: 1000).count == 1 + (0..<300).filter { $0 % 7 == 0 }.count)
        index.remove(id: "only")
        for i in 0..<300 { index.remove(id: "d\(i)") }
        #expect(index.count == 0)
        #expect(index.search("solitary", k: 5).isEmpty, "every document removed")
        #expect(index.search("filler", k: 5).isEmpty)
        index.add(id: "again", text: "solitary again")
        #expect(index.search("solitary", k: 5).map(\.id) == ["again"], "the index works after being emptied")
    }

    @Test func acceptIsAskedOnlyAboutDocumentsThatWouldEnterTheTop() {
        var index = KeywordIndex()
        var rng = SeededRandom(seed: 7)
        for i in 0..<5000 {
            let filler = (0..<Int.random(in: 0..<12, using: &rng)).map { _ in "f\(Int.random(in: 0..<40, using: &rng))" }
            index.add(id: "d\(i)", text: "common " + filler.joined(separator: " "))
        }
        var asked = 0
        let hits = index.search("common", k: 5) { _ in
            asked += 1
            return true
        }
        #expect(hits.count == 5)
        #expect(asked < 500, "asked about \(asked) of 5000 matches: the search skipped blocks that could not enter the top 5")
    }

    /// Seeded random corpora over a small Zipf-like vocabulary, with adds, updates and removals
    /// interleaved with searches: the pruned top k equals an independent exhaustive BM25 (same ids,
    /// same order, scores within 1e-9 relative), with and without a filter.
    @Test(arguments: 0..<12)
    func prunedTopKEqualsExhaustiveBM25(seed: Int) {
        var rng = SeededRandom(seed: UInt64(8_000 + seed))
        let vocabulary = (0..<50).map { "w\($0)" }
        // Zipf-like: word i drawn with weight 1 / (i + 1).
        let weights = (0..<50).map { 1 / Double($0 + 1) }
        let total = weights.reduce(0, +)
        func word() -> String {
            var u = rng.uniform() * total
            for (i, w) in weights.enumerated() {
                u -= w
                if u <= 0 { return vocabulary[i] }
            }
            return vocabulary[49]
        }
        func text() -> String { (0..<Int.random(in: 0...25, using: &rng)).map { _ in word() }.joined(separator: " ") }

        var index = KeywordIndex()
        var model = NaiveBM25()
        var nextID = 0
        let operations = 1500 + seed * 150
        for step in 0..<operations {
            let r = rng.uniform()
            if r < 0.6 || model.order.isEmpty {
                let id = "m\(nextID)"
                nextID += 1
                let t = text()
                index.add(id: id, text: t)
                model.add(id: id, text: t)
            } else if r < 0.75 {
                let id = model.order[Int.random(in: 0..<model.order.count, using: &rng)]
                let t = text()
                index.add(id: id, text: t)
                model.add(id: id, text: t)
            } else if r < 0.9 {
                let id = model.order[Int.random(in: 0..<model.order.count, using: &rng)]
                index.remove(id: id)
                model.remove(id: id)
            } else if r < 0.905 {
                // Now and then everything goes: the index must start over cleanly.
                for id in model.order {
                    index.remove(id: id)
                    model.remove(id: id)
                }
            }
            #expect(index.count == model.order.count)
            guard step % 5 == 0 else { continue }
            let query = (0..<Int.random(in: 1...4, using: &rng)).map { _ in rng.uniform() < 0.1 ? "unknown\(step)" : word() }
                .joined(separator: " ")
            let k = Int.random(in: 1...50, using: &rng)
            let modulus = Int.random(in: 2...5, using: &rng)
            let filters: [(String, (String) -> Bool)] = [
                ("no filter", { _ in true }),
                ("ids whose number is 0 mod \(modulus)", { Int($0.dropFirst())! % modulus == 0 }),
            ]
            for (name, accept) in filters {
                let got = index.search(query, k: k, accept: accept)
                let expected = model.search(query, k: k, accept: accept)
                let same = got.count == expected.count
                    && zip(got, expected).allSatisfy { $0.id == $1.id && abs($0.score - $1.score) <= 1e-9 * $1.score }
                #expect(same, "step \(step), query \"\(query)\", k \(k), \(name): got \(got.prefix(5)), expected \(expected.prefix(5))")
                let reference = index.searchExhaustive(query, k: k, accept: accept)
                #expect(reference.map(\.id) == got.map(\.id) && reference.map(\.score) == got.map(\.score),
                        "step \(step): searchExhaustive and search disagree")
                if step % 25 == 0 {
                    // The same index written out and searched in place: the same hits, bit for bit.
                    let bytes = index.encoded()
                    let mapped = bytes.withUnsafeBytes { raw -> [(id: String, score: Double)]? in
                        guard let m = try? MappedKeywordIndex(bytes: raw) else { return nil }
                        #expect(m.count == index.count)
                        return m.search(query, k: k, accept: accept)
                    }
                    #expect(mapped.map { $0.map(\.id) } == got.map(\.id) && mapped.map { $0.map(\.score) } == got.map(\.score),
                            "step \(step): the mapped index answers \(String(describing: mapped?.prefix(5))), the index \(got.prefix(5))")
                }
                if !same { return }
            }
        }
    }
}

@Suite struct MappedKeywordIndexTests {
    func sample() -> KeywordIndex {
        var index = KeywordIndex()
        for i in 0..<300 { index.add(id: "m\(i)", text: "note \(i % 7) about the launch plan w\(i % 13) w\(i % 5)") }
        for i in stride(from: 0, to: 300, by: 4) { index.remove(id: "m\(i)") }
        index.add(id: "ü-id", text: "unicode ünïcödé words")
        return index
    }

    @Test func answersAsTheIndexItWasWrittenFrom() throws {
        let index = sample()
        let bytes = index.encoded()
        try bytes.withUnsafeBytes { raw in
            let mapped = try MappedKeywordIndex(bytes: raw)
            #expect(mapped.count == index.count)
            for query in ["launch", "w3 w4", "note 5", "ünïcödé", "absent", "w1 plan about", ""] {
                for k in [1, 3, 10, 500] {
                    let a = mapped.search(query, k: k), b = index.search(query, k: k)
                    #expect(a.map(\.id) == b.map(\.id) && a.map(\.score) == b.map(\.score), "\(query) k \(k)")
                    #expect(mapped.searchExhaustive(query, k: k).map(\.id) == b.map(\.id))
                }
            }
            #expect(mapped.search("unicode", k: 2).map(\.id) == ["ü-id"])
            #expect(mapped.search("launch", k: 5, accept: { $0.hasSuffix("9") }).allSatisfy { $0.id.hasSuffix("9") })
        }
        var empty = KeywordIndex()
        empty.add(id: "x", text: "gone")
        empty.remove(id: "x")
        try empty.encoded().withUnsafeBytes { raw in
            let m = try MappedKeywordIndex(bytes: raw)
            #expect(m.count == 0 && m.search("gone", k: 3).isEmpty)
        }
    }

    @Test func damageIsCorruptNeverACrash() {
        let bytes = sample().encoded()
        func check(_ b: [UInt8], _ why: String, mentioning: String) {
            b.withUnsafeBytes { raw in
                do throws(StrataError) {
                    _ = try MappedKeywordIndex(bytes: raw)
                    Issue.record("\(why): accepted")
                } catch {
                    #expect(error.code == .corrupt && error.message.contains(mentioning), "\(why): \(error.message)")
                }
            }
        }
        check(Array(bytes.dropLast(8)), "cut short", mentioning: "bytes")
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x40
        check(flipped, "one bit flipped", mentioning: "checksum")
        var magic = bytes
        magic[0] = UInt8(ascii: "X")
        check(magic, "another file", mentioning: "not a Strata keyword index")
        check([UInt8](repeating: 0, count: 40), "too short", mentioning: "not a Strata keyword index")
    }
}

/// BM25 straight from the definition, over plain documents: what `KeywordIndex` must answer,
/// ties broken by id.
private struct NaiveBM25 {
    var order: [String] = []
    var words: [String: [String]] = [:]

    mutating func add(id: String, text: String) {
        remove(id: id)
        order.append(id)
        words[id] = Tokenizer.keywords(text)
    }

    mutating func remove(id: String) {
        guard words.removeValue(forKey: id) != nil else { return }
        order.removeAll { $0 == id }
    }

    func search(_ query: String, k: Int, accept: (String) -> Bool) -> [(id: String, score: Double)] {
        guard !order.isEmpty else { return [] }
        let n = Double(order.count)
        let average = max(Double(order.reduce(0) { $0 + words[$1]!.count }) / n, 1)
        let terms = Set(Tokenizer.keywords(query)).sorted()
        let df = Dictionary(uniqueKeysWithValues: terms.map { t in (t, order.filter { words[$0]!.contains(t) }.count) })
        var scored: [(id: String, score: Double)] = []
        for id in order where accept(id) {
            let doc = words[id]!
            var score = 0.0
            var matched = false
            for t in terms where df[t]! > 0 {
                let tf = Double(doc.filter { $0 == t }.count)
                guard tf > 0 else { continue }
                matched = true
                let d = Double(df[t]!)
                let idf = log(1 + (n - d + 0.5) / (d + 0.5))
                let norm = 1.2 * (1 - 0.75 + 0.75 * Double(doc.count) / average)
                score += idf * tf * (1.2 + 1) / (tf + norm)
            }
            if matched { scored.append((id, score)) }
        }
        scored.sort { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }
        return scored.prefix(k).map { ($0.id, $0.score) }
    }
}

@Suite struct TokenizerTests {
    /// ASCII text takes a byte-by-byte path; a non-ASCII word after it sends the same text down
    /// the Unicode path: both must split and lower-case alike.
    @Test func asciiTextSplitsAsTheUnicodePathDoes() {
        var rng = SeededRandom(seed: 31)
        let alphabet = Array("aZ09 \t\n.,;:-_'\"!?@[]`{}~/\\AbYz7mQ\u{7f}\u{1}")
        for _ in 0..<500 {
            let text = String((0..<Int.random(in: 0..<40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            #expect(Tokenizer.words(text) + ["é"] == Tokenizer.words(text + " é"), "\(text.debugDescription)")
        }
        #expect(Tokenizer.words("Hello, WORLD: 42nd-street") == ["hello", "world", "42nd", "street"])
        #expect(Tokenizer.words("Ünïcode Straße") == ["ünïcode", "straße"])
    }

    /// The definition the Unicode path keeps (keyword indexes and hashing vectors on disk were
    /// made with it): runs of alphabetic or numeric scalars, each a String lower-cased whole.
    static func definition(_ text: String) -> [String] {
        var out: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                current.append(scalar)
            } else if !current.isEmpty {
                out.append(String(current).lowercased())
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { out.append(String(current).lowercased()) }
        return out
    }

    /// The Unicode path lowers each scalar as it appends it; `lowercased()` lowers a String
    /// scalar by scalar with the same mapping, which this holds for every scalar there is.
    @Test func everyScalarLowersAsItsStringDoes() {
        var differ: [UInt32] = []
        for v in UInt32(0x80)...0x10FFFF {
            guard let s = Unicode.Scalar(v), s.properties.isAlphabetic || s.properties.numericType != nil else { continue }
            if String(s).lowercased() != s.properties.lowercaseMapping { differ.append(v) }
        }
        #expect(differ.isEmpty, "\(differ.prefix(10).map { String($0, radix: 16) })")
    }

    @Test func unicodeTextSplitsAsTheDefinitionDoes() {
        var rng = SeededRandom(seed: 47)
        let pool = ["Σ", "ς", "σ", "İ", "I", "ı", "ẞ", "ß", "ǅ", "ﬃ", "Ω", "\u{212A}", "Å", "e\u{301}", "\u{345}", "\u{93E}",
                    "क", "東", "１", "Ⅻ", "½", "٣", " ", ",", "。", "a", "Z", "9", "🙂", "\u{10400}", "\u{1E900}"]
        var texts = ["Le lancement est reporté à MARS", "ΣΊΣΥΦΟΣ ΟΔΥΣΣΕΥΣ", "İstanbul'da ıslak", "发布推迟到三月，爱丽丝喜欢绿茶。"]
        for i in 0..<3_000 {
            var t = ""
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                if i % 2 == 0 {
                    t += pool.randomElement(using: &rng)!
                } else {
                    var v: UInt32
                    repeat { v = UInt32.random(in: 0...0x10FFFF, using: &rng) } while Unicode.Scalar(v) == nil
                    t.unicodeScalars.append(Unicode.Scalar(v)!)
                }
            }
            texts.append(t)
        }
        for t in texts {
            #expect(Tokenizer.words(t) == Self.definition(t), "\(t.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        #expect(Tokenizer.words("ΣΊΣΥΦΟΣ reporté") == ["σίσυφοσ", "reporté"], "no final-sigma rule, as lowercased()")
    }
}
