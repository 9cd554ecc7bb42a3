#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore
import StrataPlugins

/// What a summarizer handed to its callback during one call: every call's text as raw bytes,
/// since `String(cString:)` would quietly repair invalid UTF-8 (rule `summarizer.utf8`) and one
/// kept text could not show a second call (rule `summarizer.once`).
final class SummaryCollector {
    /// One entry per callback call; nil when the plugin passed a NULL text.
    var calls: [[UInt8]?] = []

    var context: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ context: UnsafeMutableRawPointer?) -> SummaryCollector {
        Unmanaged<SummaryCollector>.fromOpaque(context!).takeUnretainedValue()
    }

    func take(_ text: UnsafePointer<CChar>?) {
        calls.append(text.map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) })
    }
}

private let summaryFn: strata_text_fn = { context, text in SummaryCollector.from(context).take(text) }

/// Calls a plugin's summarizer vtable directly: the adapter (`PluginSummarizer`) keeps only the
/// last text the callback got and repairs its UTF-8, which would hide exactly what the
/// summarizer rules are about.
final class RawSummarizer: RawInstance {
    let vtable: strata_summarizer_vtable
    /// The vtable's declared size: functions beyond it are treated as NULL.
    let declaredSize: Int
    let instance: UnsafeMutableRawPointer?
    private var destroyed = false

    static func create(_ factory: PluginFactory, config: String) -> (RawOutcome, RawSummarizer?) {
        let (v, size) = RawVTable.read(factory, as: strata_summarizer_vtable.self)
        let (outcome, out) = RawVTable.create(config: config, create: v.create, createWithHost: v.create_with_host)
        guard outcome.ok else { return (outcome, nil) }
        return (outcome, RawSummarizer(vtable: v, declaredSize: size, instance: out))
    }

    private init(vtable: strata_summarizer_vtable, declaredSize: Int, instance: UnsafeMutableRawPointer?) {
        self.vtable = vtable
        self.declaredSize = declaredSize
        self.instance = instance
    }

    deinit { destroy() }

    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        vtable.destroy?(instance)
    }

    /// Summarizes `texts` (nil passes a NULL entry) within `maxChars`; `count` is the count
    /// passed (default: texts.count). The texts array is never NULL.
    func summarize(_ texts: [String?], maxChars: Int, count: Int? = nil) -> (RawOutcome, SummaryCollector) {
        let collector = SummaryCollector()
        guard let summarize = vtable.summarize else {
            return (RawOutcome(status: Int32(STRATA_ERR_UNSUPPORTED), message: "summarize is NULL"), collector)
        }
        let strings: [UnsafeMutablePointer<CChar>?] = texts.map { $0.map { strdup($0)! } }
        defer { strings.forEach { free($0) } }
        // One extra NULL entry, so an array of zero texts still has an address.
        let pointers = strings.map { $0.map { UnsafePointer($0) } } + [nil]
        let outcome = withExtendedLifetime(collector) {
            pointers.withUnsafeBufferPointer { t in
                RawOutcome.of { summarize(instance, t.baseAddress, count ?? texts.count, maxChars, summaryFn, collector.context) }
            }
        }
        return (outcome, collector)
    }

    /// The summary of a call that must succeed: its bytes, after checking that the callback got
    /// exactly one non-NULL text (rule `summarizer.once`, whatever the case).
    func summary(_ texts: [String?], maxChars: Int, _ what: String, count: Int? = nil) throws -> [UInt8] {
        let (outcome, collector) = summarize(texts, maxChars: maxChars, count: count)
        try expectOK(outcome, what)
        guard collector.calls.count == 1 else {
            throw ConformanceFailure(message: "\(what) succeeded and called fn \(collector.calls.count) times, expected exactly once",
                                     rule: "summarizer.once")
        }
        guard let bytes = collector.calls[0] else {
            throw ConformanceFailure(message: "\(what) passed a NULL text to fn", rule: "summarizer.once")
        }
        return bytes
    }
}
