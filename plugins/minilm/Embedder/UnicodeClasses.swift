/// The character classes and mappings of `BertTokenizer`, parsed once from `UnicodeTables`
/// (generated from Unicode 14.0 by scripts/gen-minilm-unicode) into sorted arrays searched by
/// bisection. ASCII never reaches the tables: the tokenizer answers it inline.
///
/// Immutable after the first use, so any thread may read it.
struct UnicodeClasses: Sendable {
    static let shared = UnicodeClasses()

    let control: RangeSet32
    let punctuation: RangeSet32
    let nonspacing: RangeSet32
    let decompositions: Mapping32
    let lowercase: Mapping32
    /// Code points with a non-zero canonical combining class, sorted, and their classes.
    let combiningKeys: [UInt32]
    let combiningValues: [UInt8]

    private init() {
        control = RangeSet32(UnicodeTables.control)
        punctuation = RangeSet32(UnicodeTables.punctuation)
        nonspacing = RangeSet32(UnicodeTables.nonspacing)
        decompositions = Mapping32(UnicodeTables.decompositions)
        lowercase = Mapping32(UnicodeTables.lowercase)
        let classes = Mapping32(UnicodeTables.combiningClasses)
        combiningKeys = classes.keys
        combiningValues = classes.keys.indices.map { UInt8(classes.values[Int(classes.starts[$0])]) }
    }

    /// The canonical combining class of `c` (0 for most characters).
    func combiningClass(_ c: UInt32) -> UInt8 {
        if c < 0x300 { return 0 }
        guard let i = bisect(combiningKeys, c) else { return 0 }
        return combiningValues[i]
    }

    /// Rust's `char::is_whitespace` (the White_Space property), which the reference uses after
    /// counting tab, newline and carriage return as whitespace too.
    @inline(__always)
    static func isWhitespace(_ c: UInt32) -> Bool {
        switch c {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    /// The CJK ideograph ranges that text cleaning pads with spaces, as the reference
    /// (tokenizers' `is_chinese_char`, whose fifth range starts at 0x2B920) lists them.
    @inline(__always)
    static func isCJK(_ c: UInt32) -> Bool {
        switch c {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: true
        default: false
        }
    }

    /// ASCII punctuation (`char::is_ascii_punctuation`: ! to /, : to @, [ to `, { to ~).
    @inline(__always)
    static func isASCIIPunctuation(_ c: UInt32) -> Bool {
        (0x21...0x2F).contains(c) || (0x3A...0x40).contains(c) || (0x5B...0x60).contains(c) || (0x7B...0x7E).contains(c)
    }
}

/// Sorted, disjoint, inclusive ranges of code points.
struct RangeSet32: Sendable {
    let lows: [UInt32]
    let highs: [UInt32]

    init(_ text: String) {
        var lows: [UInt32] = [], highs: [UInt32] = []
        for item in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = item.split(separator: "-")
            lows.append(UInt32(parts[0], radix: 16)!)
            highs.append(UInt32(parts[1], radix: 16)!)
        }
        self.lows = lows
        self.highs = highs
    }

    func contains(_ c: UInt32) -> Bool {
        // The last range starting at or below c.
        var lo = 0, hi = lows.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if lows[mid] <= c { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 && c <= highs[lo - 1]
    }
}

/// A map from code points to sequences of code points, sorted by key.
struct Mapping32: Sendable {
    let keys: [UInt32]
    /// Where each key's sequence starts in `values`; one more entry than `keys`.
    let starts: [Int32]
    let values: [UInt32]

    init(_ text: String) {
        var keys: [UInt32] = [], starts: [Int32] = [], values: [UInt32] = []
        for item in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = item.split(separator: ":")
            keys.append(UInt32(parts[0], radix: 16)!)
            starts.append(Int32(values.count))
            for v in parts[1].split(separator: ",") { values.append(UInt32(v, radix: 16)!) }
        }
        starts.append(Int32(values.count))
        self.keys = keys
        self.starts = starts
        self.values = values
    }

    /// The range of `values` that `c` maps to, or nil when it has no mapping.
    @inline(__always)
    func lookup(_ c: UInt32) -> Range<Int>? {
        guard let i = bisect(keys, c) else { return nil }
        return Int(starts[i])..<Int(starts[i + 1])
    }
}

/// The index of `value` in the sorted array `keys`, or nil.
@inline(__always)
func bisect(_ keys: [UInt32], _ value: UInt32) -> Int? {
    var lo = 0, hi = keys.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if keys[mid] < value { lo = mid + 1 } else { hi = mid }
    }
    return lo < keys.count && keys[lo] == value ? lo : nil
}
