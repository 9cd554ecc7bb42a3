import CStrata
import Dispatch
import StrataCore
import StrataPlugins
import Synchronization

/// The rules of include/strata/embedder.h (contract-spec.md, "Embedder"), checked by calling a
/// plugin's vtable directly (`RawEmbedder`). Each case names its rule; a failing call without a
/// message breaks "failure.message" whatever the case.
enum EmbedderContract {
    /// The largest difference a batch may show against single calls (`embedder.batch`), and
    /// several threads against one (`threads`): batching and concurrency may change the order of
    /// a sum, not the vector.
    static let tolerance = 1e-5

    /// Texts with one of each kind of input: words, punctuation, 2-, 3- and 4-byte UTF-8, a
    /// single letter and nothing at all.
    static let texts = [
        "the cat sat on the mat",
        "Alice prefers green tea, not coffee.",
        "caf\u{E9} \u{FC}ber na\u{EF}ve \u{6587}\u{5B57} \u{1F642}",
        "",
        "quarterly revenue grew by ten percent",
        "a",
    ]

    /// 100,000 Unicode scalars of words, with 2- and 3-byte characters among them
    /// (`embedder.long_text`: truncation is the embedder's business, failing is not).
    static let longText: String = {
        let words = ["memory", "strata", "caf\u{E9}", "engine", "\u{6587}\u{5B57}", "vector", "recall", "plugin"]
        var scalars = String.UnicodeScalarView()
        var i = 0
        while scalars.count < 100_000 {
            scalars.append(contentsOf: words[i % words.count].unicodeScalars)
            scalars.append(" ")
            i += 1
        }
        return String(String.UnicodeScalarView(scalars.prefix(100_000)))
    }()

    static func run(_ maker: RawMaker<RawEmbedder>, session: CheckSession) {
        let runner = CaseRunner(suite: "embedder", session: session)
        let make = maker

        runner.run("dimension is at least 1 and constant; embed writes count x dimension finite floats, nothing outside",
                   rule: "embedder.dimension") {
            let e = try make.make()
            defer { e.destroy() }
            try expect(e.vtable.dimension != nil, "dimension is NULL")
            let d = e.dimension
            try expect(d >= 1, "dimension() is \(d)")
            let vectors = try e.vectors(texts, "embed of \(texts.count) texts")
            try expect(vectors.count == texts.count && vectors.allSatisfy { $0.count == d }, "embed did not give \(texts.count) vectors of \(d) floats")
            _ = try e.vectors([texts[0]], "embed of one text")
            try expect(e.dimension == d, "dimension() changed from \(d) to \(e.dimension) after embedding")
        }

        runner.run("model_id is non-empty and the same on every call and for every instance with the same options", rule: "embedder.model_id") {
            let options = make.freshOptions()
            let a = try make.make(options: options)
            defer { a.destroy() }
            try expect(a.vtable.model_id != nil, "model_id is NULL")
            guard let id = a.modelID else { throw ConformanceFailure(message: "model_id() answered NULL") }
            try expect(!id.isEmpty, "model_id() is empty")
            _ = try a.vectors(texts, "embed")
            try expect(a.modelID == id, "model_id() changed from \"\(id)\" to \"\(a.modelID ?? "NULL")\" after embedding")
            let b = try make.make(options: options)
            defer { b.destroy() }
            try expect(b.modelID == id, "a second instance with the same options says model_id \"\(b.modelID ?? "NULL")\", the first \"\(id)\"")
        }

        runner.run("the same text gives the same floats, bit for bit, on one instance and on another", rule: "embedder.deterministic") {
            let options = make.freshOptions()
            let a = try make.make(options: options)
            defer { a.destroy() }
            let first = try texts.map { try a.vectors([$0], "embed of \"\($0)\"")[0] }
            // Other work in between: state a call leaves behind must not change the next answer.
            _ = try a.vectors(texts.reversed(), "embed of a batch")
            let again = try texts.map { try a.vectors([$0], "embed of \"\($0)\" again")[0] }
            for (i, (x, y)) in zip(first, again).enumerated() where x.map(\.bitPattern) != y.map(\.bitPattern) {
                throw ConformanceFailure(message: "embedding \"\(texts[i])\" twice gave different floats (max difference \(maxAbsDifference(x, y)))")
            }
            let b = try make.make(options: options)
            defer { b.destroy() }
            let other = try texts.map { try b.vectors([$0], "embed of \"\($0)\" on a second instance")[0] }
            for (i, (x, y)) in zip(first, other).enumerated() where x.map(\.bitPattern) != y.map(\.bitPattern) {
                throw ConformanceFailure(message: "a second instance with the same options embeds \"\(texts[i])\" to other floats (max difference \(maxAbsDifference(x, y)))")
            }
        }

        runner.run("a batch gives what single calls give (max abs difference <= 1e-5)", rule: "embedder.batch") {
            let e = try make.make()
            defer { e.destroy() }
            let batch = try e.vectors(texts, "embed of \(texts.count) texts at once")
            for (i, text) in texts.enumerated() {
                let single = try e.vectors([text], "embed of \"\(text)\" alone")[0]
                let difference = maxAbsDifference(batch[i], single)
                try expect(difference <= tolerance, "text \(i) (\"\(text)\") in a batch of \(texts.count) differs from its single call by \(difference)")
            }
        }

        runner.run("\"\" embeds to a finite vector", rule: "embedder.empty_text") {
            let e = try make.make()
            defer { e.destroy() }
            _ = try e.vectors([""], "embed of \"\"", rule: "embedder.empty_text")
            _ = try e.vectors(["", "not empty", ""], "embed of \"\" in a batch", rule: "embedder.empty_text")
        }

        runner.run("a 100,000-character text embeds", rule: "embedder.long_text") {
            let e = try make.make()
            defer { e.destroy() }
            _ = try e.vectors([longText], "embed of a 100,000-character text (\(longText.utf8.count) bytes)", rule: "embedder.long_text")
        }

        runner.run("count 0 is STRATA_OK and writes nothing", rule: "embedder.empty_batch") {
            let e = try make.make()
            defer { e.destroy() }
            // Room for one vector, filled with the guard pattern: count 0 must leave all of it.
            let (outcome, out) = e.embed(["not to be read"], count: 0, rows: 1, fillBits: GuardedFloats.guardBits)
            try expectOK(outcome, "embed of count 0")
            let written = out.values.filter { $0.bitPattern != GuardedFloats.guardBits }.count
            try expect(written == 0, "embed of count 0 wrote \(written) float(s) into out")
            try out.expectGuards("embed of count 0")
        }

        make.checkUnknownOption(runner, kind: "an embedder")

        runner.run("a failing call leaves a message with host->fail (a NULL text is STRATA_ERR_INVALID_ARGUMENT)", rule: "failure.message") {
            let e = try make.make()
            defer { e.destroy() }
            let (outcome, out) = e.embed(["first", nil, "third"])
            try expectFailure(outcome, .invalidArgument, "embed of [\"first\", NULL, \"third\"]")
            try out.expectGuards("the failed embed", rule: "embedder.dimension")
            try make.expectCreateMessage(kind: "an embedder")
        }

        runner.run("an embedder claiming STRATA_INSTANCE_THREAD_SAFE gives the same vectors from many threads", rule: "threads") {
            let e = try make.make()
            defer { e.destroy() }
            guard e.isThreadSafe else { return }
            // What one thread gets, for single calls and for the batch.
            let singles = try texts.map { try e.vectors([$0], "embed of \"\($0)\"")[0] }
            let batch = try e.vectors(texts, "embed of \(texts.count) texts")
            let threads = 4, rounds = 40
            let problems = Mutex<[String]>([])
            let box = UncheckedBox(e)
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                for round in 0..<rounds {
                    let i = (t + round) % texts.count
                    let useBatch = round % 3 == 0
                    let (outcome, out) = useBatch ? box.value.embed(texts) : box.value.embed([texts[i]])
                    guard outcome.ok else {
                        problems.withLock { $0.append("embed failed: \(outcome.statusName): \(outcome.message ?? "(no message)")") }
                        continue
                    }
                    let expected = useBatch ? batch.flatMap { $0 } : singles[i]
                    let difference = maxAbsDifference(out.values, expected)
                    if difference > tolerance {
                        problems.withLock { $0.append((useBatch ? "the batch" : "\"\(texts[i])\"") + " differs by \(difference) from one thread's answer") }
                    }
                }
            }
            let found = problems.withLock { $0 }
            try expect(found.isEmpty, "\(found.count) of \(threads * rounds) calls from \(threads) threads went wrong; first: \(found.prefix(3).joined(separator: "; "))")
        }
    }
}
