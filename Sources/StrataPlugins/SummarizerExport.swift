import CStrata
import StrataCore

/// The C vtable of a Swift `Summarizer` in a plugin (see `PluginExport`).
enum SummarizerExport {
    nonisolated(unsafe) static var factory: PluginExport.Factory<any Summarizer>?

    nonisolated(unsafe) static let vtable: UnsafePointer<strata_summarizer_vtable> = {
        let p = UnsafeMutablePointer<strata_summarizer_vtable>.allocate(capacity: 1)
        p.initialize(to: strata_summarizer_vtable(
            struct_size: UInt32(MemoryLayout<strata_summarizer_vtable>.size),
            flags: UInt32(STRATA_INSTANCE_THREAD_SAFE),
            create: { config, out in
                PluginExport.run { () throws(StrataError) in
                    guard let out else { throw StrataError(.invalidArgument, "out_self is NULL") }
                    guard let factory else { throw StrataError(.internal, "no summarizer factory registered") }
                    out.pointee = PluginExport.retain(try factory.make(try PluginExport.json(config, what: "config")))
                }
            },
            destroy: { PluginExport.release($0) },
            summarize: { me, texts, count, maxChars, fn, context in
                PluginExport.run { () throws(StrataError) in
                    let s = PluginExport.object(me, as: (any Summarizer).self)
                    guard let fn, count == 0 || texts != nil else { throw StrataError(.invalidArgument, "texts or callback is NULL") }
                    var list: [String] = []
                    for i in 0..<count {
                        guard let t = texts![i] else { throw StrataError(.invalidArgument, "text \(i) is NULL") }
                        list.append(String(cString: t))
                    }
                    var summary = try s.summarize(list, maxCharacters: maxChars)
                    // summarizer.h counts max_chars in Unicode scalars; a Swift summarizer counts
                    // Characters, which can hold several (e, then a combining accent). Drop whole
                    // Characters until the scalars fit, so no character is cut in two.
                    if maxChars > 0 {
                        while summary.unicodeScalars.count > maxChars { summary.removeLast() }
                    }
                    summary.withCString { fn(context, $0) }
                }
            }, create_with_host: nil))
        return UnsafePointer(p)
    }()
}
