import StrataCore

/// BERT's uncased WordPiece tokenizer, as the reference (Hugging Face tokenizers: BertNormalizer
/// with lowercasing, BertPreTokenizer, WordPiece; the model's `tokenizer_config.json`) does it:
///
/// 1. clean: drop NUL, U+FFFD and control characters (Cc, Cf, Co except tab, newline, carriage
///    return); every whitespace character becomes a space;
/// 2. pad CJK ideographs with a space on each side;
/// 3. strip accents: NFD, then drop nonspacing marks (Mn);
/// 4. lowercase, character by character (full mappings, no context: Σ is always σ);
/// 5. split on whitespace, and around every punctuation character (ASCII punctuation and P*);
/// 6. each word: longer than 100 characters is `[UNK]`; else greedy longest match from the
///    left against the vocabulary, later pieces prefixed `##`; a word with a part that matches
///    nothing is one `[UNK]`;
/// 7. `[CLS]` pieces `[SEP]`, the pieces cut so the whole is at most `maxTokens`.
///
/// The character tables are Unicode 14.0 (`UnicodeTables.version`), corrected where the
/// reference's older tables class a character otherwise (scripts/gen-minilm-unicode lists them
/// and checks the result against the reference: the same on every assigned code point).
///
/// The vocabulary is immutable after `init`; `encode` works in the caller's `Scratch`, so one
/// tokenizer serves any number of threads, each with its own scratch.
public final class BertTokenizer: Sendable {
    public let clsID: Int32
    public let sepID: Int32
    public let unkID: Int32
    public let vocabularySize: Int
    /// Words longer than this many characters are `[UNK]` (the reference's max_input_chars_per_word).
    public static let maxWordCharacters = 100

    private let vocabulary: ByteTable

    /// Reads `vocab.txt` (one token per line; a token's id is its line number from 0).
    /// - Throws: `.io` when the file cannot be read; `.corrupt` when it lacks `[CLS]`, `[SEP]`
    ///   or `[UNK]` or is not UTF-8.
    public init(vocabPath: String) throws(StrataError) {
        let bytes = try WholeFile.read(vocabPath, what: "vocabulary")
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw StrataError(.corrupt, "\(vocabPath): the vocabulary is not UTF-8")
        }
        var tokens: [ArraySlice<UInt8>] = []
        var start = 0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x0A {
            var end = i
            // Tokens are the line without trailing whitespace (tokenizers' `trim_end`).
            while end > start, [0x20, 0x09, 0x0D, 0x0B, 0x0C].contains(bytes[end - 1]) { end -= 1 }
            if i < bytes.count || end > start { tokens.append(bytes[start..<end]) }
            start = i + 1
        }
        let table = ByteTable(tokens)
        func id(_ token: String) throws(StrataError) -> Int32 {
            guard let id = table.find(Array(token.utf8)[...]) else {
                throw StrataError(.corrupt, "\(vocabPath): the vocabulary has no \(token) token")
            }
            return id
        }
        vocabulary = table
        vocabularySize = tokens.count
        clsID = try id("[CLS]")
        sepID = try id("[SEP]")
        unkID = try id("[UNK]")
    }

    /// Working buffers for `encode`, grown as needed and kept: once they have seen the longest
    /// text, encoding allocates nothing.
    public struct Scratch {
        var scalars: [UInt32] = []
        var decomposed: [UInt32] = []
        var normalized: [UInt32] = []
        var word: [UInt8] = []
        /// Byte offset in `word` where each character starts, plus the end.
        var boundaries: [Int] = []
        var pieces: [Int32] = []
        public init() {}
    }

    /// The token ids of `text`, `[CLS]` and `[SEP]` included, at most `maxTokens` (>= 2) of
    /// them, appended to `ids`.
    /// - Complexity: O(n) in the characters of `text` (times the ≤ 100² substrings of a word
    ///   in the worst case); words after the cut are not looked at.
    public func encode(_ text: String, maxTokens: Int, into ids: inout [Int32], scratch: inout Scratch) {
        scratch.scalars.removeAll(keepingCapacity: true)
        for scalar in text.unicodeScalars { scratch.scalars.append(scalar.value) }
        normalize(&scratch)
        split(maxTokens: maxTokens, into: &ids, scratch: &scratch)
    }

    /// The same for a NUL-terminated UTF-8 text, read in place. Invalid UTF-8 gives what
    /// `String(cString:)` gives: U+FFFD for each bad sequence, which text cleaning drops.
    public func encode(cString text: UnsafePointer<CChar>, maxTokens: Int, into ids: inout [Int32], scratch: inout Scratch) {
        scratch.scalars.removeAll(keepingCapacity: true)
        text.withMemoryRebound(to: UInt8.self, capacity: 1) {
            var decoder = CStringScalars(position: $0)
            while let c = decoder.next() { scratch.scalars.append(c) }
        }
        normalize(&scratch)
        split(maxTokens: maxTokens, into: &ids, scratch: &scratch)
    }

    /// Steps 5 to 7 on `scratch.normalized`.
    private func split(maxTokens: Int, into ids: inout [Int32], scratch: inout Scratch) {
        precondition(maxTokens >= 2, "BertTokenizer.encode: maxTokens must leave room for [CLS] and [SEP]")
        ids.append(clsID)
        let budget = maxTokens - 2
        var count = 0
        scratch.word.removeAll(keepingCapacity: true)
        scratch.boundaries.removeAll(keepingCapacity: true)
        let normalized = scratch.normalized
        var i = 0
        while i <= normalized.count, count < budget {
            let c: UInt32 = i < normalized.count ? normalized[i] : 0x20
            i += 1
            let space = c == 0x20 || (c >= 0x80 && UnicodeClasses.isWhitespace(c))
            let punctuation = !space && isPunctuation(c)
            if space || punctuation {
                if !scratch.boundaries.isEmpty {
                    count += wordPieces(&scratch, into: &ids, budget: budget - count)
                    scratch.word.removeAll(keepingCapacity: true)
                    scratch.boundaries.removeAll(keepingCapacity: true)
                }
                if punctuation, count < budget {
                    appendCharacter(c, &scratch)
                    count += wordPieces(&scratch, into: &ids, budget: budget - count)
                    scratch.word.removeAll(keepingCapacity: true)
                    scratch.boundaries.removeAll(keepingCapacity: true)
                }
            } else {
                appendCharacter(c, &scratch)
            }
        }
        ids.append(sepID)
    }

    @inline(__always)
    private func isPunctuation(_ c: UInt32) -> Bool {
        c < 0x80 ? UnicodeClasses.isASCIIPunctuation(c) : UnicodeClasses.shared.punctuation.contains(c)
    }

    /// Appends `c` to the word as UTF-8, noting where it starts.
    @inline(__always)
    private func appendCharacter(_ c: UInt32, _ s: inout Scratch) {
        s.boundaries.append(s.word.count)
        switch c {
        case 0..<0x80:
            s.word.append(UInt8(c))
        case 0x80..<0x800:
            s.word.append(UInt8(0xC0 | (c >> 6)))
            s.word.append(UInt8(0x80 | (c & 0x3F)))
        case 0x800..<0x10000:
            s.word.append(UInt8(0xE0 | (c >> 12)))
            s.word.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            s.word.append(UInt8(0x80 | (c & 0x3F)))
        default:
            s.word.append(UInt8(0xF0 | (c >> 18)))
            s.word.append(UInt8(0x80 | ((c >> 12) & 0x3F)))
            s.word.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            s.word.append(UInt8(0x80 | (c & 0x3F)))
        }
    }

    /// WordPiece on the word in `s.word`: appends at most `budget` ids and returns how many.
    private func wordPieces(_ s: inout Scratch, into ids: inout [Int32], budget: Int) -> Int {
        let characters = s.boundaries.count
        s.boundaries.append(s.word.count)
        guard characters <= Self.maxWordCharacters else {
            ids.append(unkID)
            return 1
        }
        s.pieces.removeAll(keepingCapacity: true)
        var start = 0
        while start < characters {
            var end = characters
            var found: Int32?
            while end > start {
                let piece = s.word[s.boundaries[start]..<s.boundaries[end]]
                if let id = vocabulary.find(piece, continuation: start > 0) {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else {
                ids.append(unkID)
                return 1
            }
            s.pieces.append(found)
            start = end
        }
        let n = min(budget, s.pieces.count)
        ids.append(contentsOf: s.pieces[0..<n])
        return n
    }

    /// Steps 1 to 4 into `s.normalized`.
    ///
    /// Loops here and below run on indices: a debug build iterates with the generic,
    /// unspecialised IndexingIterator, which allocates on every step (a debug build is what the
    /// allocation test, Tests/c/standalone/minilm_allocations.c, runs).
    private func normalize(_ s: inout Scratch) {
        let tables = UnicodeClasses.shared
        s.decomposed.removeAll(keepingCapacity: true)
        s.normalized.removeAll(keepingCapacity: true)
        var plain = true  // only ASCII so far: nothing to decompose or reorder
        var at = 0
        while at < s.scalars.count {
            var c = s.scalars[at]
            at += 1
            if c < 0x80 {
                if c == 0x09 || c == 0x0A || c == 0x0D { c = 0x20 } else if c < 0x20 || c == 0x7F { continue }
                s.decomposed.append(c)
                continue
            }
            plain = false
            if c == 0xFFFD || tables.control.contains(c) { continue }
            if UnicodeClasses.isWhitespace(c) {
                s.decomposed.append(0x20)
                continue
            }
            let cjk = UnicodeClasses.isCJK(c)
            if cjk { s.decomposed.append(0x20) }
            decompose(c, tables, into: &s.decomposed)
            if cjk { s.decomposed.append(0x20) }
        }
        if !plain { canonicalOrder(&s.decomposed, tables) }
        at = 0
        while at < s.decomposed.count {
            let c = s.decomposed[at]
            at += 1
            if c < 0x80 {
                s.normalized.append(c >= 0x41 && c <= 0x5A ? c + 0x20 : c)
                continue
            }
            if tables.nonspacing.contains(c) { continue }
            if let r = tables.lowercase.lookup(c) {
                var i = r.lowerBound
                while i < r.upperBound {
                    s.normalized.append(tables.lowercase.values[i])
                    i += 1
                }
            } else {
                s.normalized.append(c)
            }
        }
    }

    /// The full canonical decomposition of `c` (Hangul syllables by the algorithm of Unicode's
    /// chapter 3.12).
    @inline(__always)
    private func decompose(_ c: UInt32, _ tables: UnicodeClasses, into out: inout [UInt32]) {
        if c >= 0xAC00, c < 0xAC00 + 11172 {
            let s = c - 0xAC00
            out.append(0x1100 + s / 588)
            out.append(0x1161 + (s % 588) / 28)
            if s % 28 != 0 { out.append(0x11A7 + s % 28) }
        } else if let r = tables.decompositions.lookup(c) {
            var i = r.lowerBound
            while i < r.upperBound {
                out.append(tables.decompositions.values[i])
                i += 1
            }
        } else {
            out.append(c)
        }
    }

    /// NFD's canonical ordering: each run of characters with non-zero combining classes sorted
    /// by class, stably (an insertion sort: runs are a few characters).
    private func canonicalOrder(_ a: inout [UInt32], _ tables: UnicodeClasses) {
        var i = 1
        while i < a.count {
            let ci = tables.combiningClass(a[i])
            if ci != 0 {
                var j = i
                while j > 0 {
                    let cj = tables.combiningClass(a[j - 1])
                    if cj == 0 || cj <= ci { break }
                    a.swapAt(j, j - 1)
                    j -= 1
                }
            }
            i += 1
        }
    }
}

/// The code points of NUL-terminated UTF-8, read in place. A byte that does not start a
/// well-formed sequence (Unicode's table 3-7: no overlong forms, surrogates or values past
/// U+10FFFF) is passed over alone, so decoding resumes where `String(cString:)` resumes after
/// its U+FFFD; the tokenizer drops U+FFFD, so passing over gives the same tokens.
struct CStringScalars {
    var position: UnsafePointer<UInt8>

    mutating func next() -> UInt32? {
        while true {
            let b0 = UInt32(position[0])
            if b0 == 0 { return nil }
            if b0 < 0x80 {
                position += 1
                return b0
            }
            let (count, low, high): (Int, UInt32, UInt32) = switch b0 {
            case 0xC2...0xDF: (2, 0x80, 0xBF)
            case 0xE0: (3, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (3, 0x80, 0xBF)
            case 0xED: (3, 0x80, 0x9F)
            case 0xF0: (4, 0x90, 0xBF)
            case 0xF1...0xF3: (4, 0x80, 0xBF)
            case 0xF4: (4, 0x80, 0x8F)
            default: (0, 0, 0)
            }
            var value = count == 2 ? b0 & 0x1F : count == 3 ? b0 & 0x0F : b0 & 0x07
            var ok = count > 0, i = 1
            while ok, i < count {
                let b = UInt32(position[i])  // a NUL here fails the range test, so no read past it
                ok = i == 1 ? b >= low && b <= high : b >= 0x80 && b <= 0xBF
                value = value << 6 | (b & 0x3F)
                i += 1
            }
            if ok {
                position += count
                return value
            }
            position += 1
        }
    }
}

/// An open-addressing hash table from UTF-8 byte strings to ids (FNV-1a), looked up by slices
/// of a buffer: a lookup allocates nothing.
struct ByteTable: Sendable {
    private let bytes: [UInt8]
    private let starts: [Int]
    private let slots: [Int32]
    private let mask: Int
    private static let prefix: [UInt8] = [0x23, 0x23]  // "##"

    /// Ids are the positions in `tokens`; a token listed twice keeps its last id (as the
    /// reference's vocabulary map does).
    init(_ tokens: [ArraySlice<UInt8>]) {
        var bytes: [UInt8] = [], starts: [Int] = [0]
        for t in tokens {
            bytes += t
            starts.append(bytes.count)
        }
        var size = 16
        while size < tokens.count * 2 { size <<= 1 }
        var slots = [Int32](repeating: -1, count: size)
        for (id, t) in tokens.enumerated() {
            var h = Self.hash(t, seed: Self.offsetBasis) & (size - 1)
            while slots[h] >= 0, !Self.equal(bytes, starts, Int(slots[h]), t, continuation: false) { h = (h + 1) & (size - 1) }
            slots[h] = Int32(id)
        }
        self.bytes = bytes
        self.starts = starts
        self.slots = slots
        mask = size - 1
    }

    private static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    /// FNV's state after "##", so a continuation piece hashes as `"##" + piece` without copying.
    private static let continuationBasis = fnv(prefix[...], offsetBasis)

    @inline(__always)
    private static func fnv(_ s: ArraySlice<UInt8>, _ state: UInt64) -> UInt64 {
        // Index loops, not `for b in s`: a debug build iterates a slice through the generic,
        // unspecialised IndexingIterator, which allocates on every step.
        var h = state, i = s.startIndex
        while i < s.endIndex {
            h = (h ^ UInt64(s[i])) &* 0x100_0000_01b3
            i += 1
        }
        return h
    }

    @inline(__always)
    private static func hash(_ s: ArraySlice<UInt8>, seed: UInt64) -> Int {
        let h = fnv(s, seed)
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inline(__always)
    private static func equal(_ bytes: [UInt8], _ starts: [Int], _ id: Int, _ s: ArraySlice<UInt8>, continuation: Bool) -> Bool {
        let from = starts[id], to = starts[id + 1]
        let extra = continuation ? 2 : 0
        guard to - from == s.count + extra else { return false }
        if continuation, bytes[from] != 0x23 || bytes[from + 1] != 0x23 { return false }
        var k = from + extra, i = s.startIndex
        while i < s.endIndex {
            if bytes[k] != s[i] { return false }
            k += 1
            i += 1
        }
        return true
    }

    /// The id of `s`, or of `"##" + s` when `continuation`.
    @inline(__always)
    func find(_ s: ArraySlice<UInt8>, continuation: Bool = false) -> Int32? {
        var h = Self.hash(s, seed: continuation ? Self.continuationBasis : Self.offsetBasis) & mask
        while true {
            let id = slots[h]
            if id < 0 { return nil }
            if Self.equal(bytes, starts, Int(id), s, continuation: continuation) { return id }
            h = (h + 1) & mask
        }
    }
}
