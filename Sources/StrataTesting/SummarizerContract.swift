import CStrata
import StrataCore
import StrataPlugins

/// The rules of include/strata/summarizer.h (contract-spec.md, "Summarizer"), checked by calling
/// a plugin's vtable directly (`RawSummarizer`). Each case names its rule; whatever the case, a
/// second callback breaks "summarizer.once", a summary that is not UTF-8 "summarizer.utf8", one
/// over its budget "summarizer.max_chars", and a failing call without a message "failure.message".
enum SummarizerContract {
    /// Sentences of plain and accented text, 3- and 4-byte characters included.
    static let texts = [
        "The team met on Monday to plan the launch. The launch is set for March.",
        "Marketing will prepare the announcement! Sales wants a demo before the launch?",
        "Caf\u{E9} \u{FC}ber alles: na\u{EF}ve \u{6587}\u{5B57}\u{6587}\u{5B57} and \u{1F642}\u{1F642} in one sentence.",
        "Lunch was pizza.",
    ]

    /// Texts of nothing but multi-byte characters and no sentence end, so a summarizer must cut
    /// inside one: a cut by bytes lands in the middle of a character for most budgets. The last
    /// is made of characters of several scalars each (e + combining acute, a flag), where a budget
    /// counted in Swift Characters (grapheme clusters) exceeds one counted in scalars.
    static let wide = [
        String(repeating: "\u{6587}\u{5B57}", count: 60),
        String(repeating: "\u{1F642}", count: 90),
        String(repeating: "\u{E9}\u{6587}\u{1F642}", count: 40),
        String(repeating: "e\u{301}\u{1F1EB}\u{1F1F7}", count: 40),
    ]

    /// Budgets from one character up, so cuts fall at every offset of a 2-, 3- and 4-byte character.
    static let budgets = Array(1...13) + [17, 40, 80, 120, 500]

    static func run(_ maker: RawMaker<RawSummarizer>, session: CheckSession) {
        let runner = CaseRunner(suite: "summarizer", session: session)
        let make = maker

        runner.run("fn is called exactly once on success and never on failure", rule: "summarizer.once") {
            let s = try make.make()
            defer { s.destroy() }
            _ = try s.summary(texts, maxChars: 120, "summarize of \(texts.count) texts")
            _ = try s.summary([texts[3]], maxChars: 0, "summarize of one text with the default budget")
            let (outcome, collector) = s.summarize([texts[0], nil, texts[2]], maxChars: 120)
            if !outcome.ok {
                try expect(collector.calls.isEmpty, "a failed summarize (\(outcome.statusName)) called fn \(collector.calls.count) time(s)")
            }
        }

        runner.run("the summary has at most max_chars Unicode scalars; 0 (the default) succeeds", rule: "summarizer.max_chars") {
            let s = try make.make()
            defer { s.destroy() }
            for input in [texts, wide, [wide[2], texts[0]], [wide[3]]] {
                for budget in budgets {
                    let bytes = try s.summary(input, maxChars: budget, "summarize within \(budget)")
                    try expectWithin(bytes, budget, "the summary of \(input.count) texts with max_chars \(budget)")
                }
                _ = try s.summary(input, maxChars: 0, "summarize with max_chars 0 (the summarizer's default)")
            }
        }

        runner.run("the summary is valid UTF-8, also when it is cut inside multi-byte text", rule: "summarizer.utf8") {
            let s = try make.make()
            defer { s.destroy() }
            for input in [texts, wide] + wide.map({ [$0] }) {
                for budget in budgets + [0] {
                    let bytes = try s.summary(input, maxChars: budget, "summarize with max_chars \(budget)")
                    try expectUTF8(bytes, "the summary of \(input.count) text(s) with max_chars \(budget)")
                }
            }
        }

        runner.run("count 0 succeeds with a (possibly empty) summary", rule: "summarizer.empty") {
            let s = try make.make()
            defer { s.destroy() }
            for budget in [0, 1, 100] {
                let bytes = try s.summary(["not to be read"], maxChars: budget, "summarize of count 0 with max_chars \(budget)", count: 0)
                try expectUTF8(bytes, "the summary of nothing")
                if budget > 0 { try expectWithin(bytes, budget, "the summary of nothing with max_chars \(budget)") }
            }
        }

        make.checkUnknownOption(runner, kind: "a summarizer")

        runner.run("a failing call leaves a message with host->fail (a NULL text is STRATA_ERR_INVALID_ARGUMENT)", rule: "failure.message") {
            let s = try make.make()
            defer { s.destroy() }
            let (outcome, collector) = s.summarize([texts[0], nil], maxChars: 100)
            try expectFailure(outcome, .invalidArgument, "summarize of [text, NULL]")
            try expect(collector.calls.isEmpty, "the failed summarize called fn \(collector.calls.count) time(s)")
            try make.expectCreateMessage(kind: "a summarizer")
        }
    }

    /// Fails under `summarizer.utf8` unless `bytes` are valid UTF-8, naming where they break.
    static func expectUTF8(_ bytes: [UInt8], _ what: String) throws {
        guard String(validating: bytes, as: UTF8.self) == nil else { return }
        var valid = bytes.count
        while valid > 0, String(validating: bytes[0..<valid], as: UTF8.self) == nil { valid -= 1 }
        let shown = bytes[valid..<min(bytes.count, valid + 4)].map { String($0, radix: 16) }.joined(separator: " ")
        throw ConformanceFailure(
            message: "\(what) is not valid UTF-8: after \(valid) valid bytes of \(bytes.count) come bytes \(shown)"
                + (bytes.count - valid <= 3 ? ", the end (cut inside a multi-byte character?)" : ""),
            rule: "summarizer.utf8")
    }

    /// Fails under `summarizer.max_chars` when `bytes` hold more than `budget` Unicode scalars
    /// (counted after replacing bad UTF-8, which `summarizer.utf8` reports on its own).
    static func expectWithin(_ bytes: [UInt8], _ budget: Int, _ what: String) throws {
        let scalars = String(decoding: bytes, as: UTF8.self).unicodeScalars.count
        guard scalars > budget else { return }
        throw ConformanceFailure(message: "\(what) has \(scalars) characters (Unicode scalars), more than \(budget)",
                                 rule: "summarizer.max_chars")
    }
}
