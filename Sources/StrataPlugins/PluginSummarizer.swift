#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore

/// Receives the summary text from the plugin's callback.
private final class TextBox {
    var text: String?
}

private let textCallback: strata_text_fn = { context, text in
    let box = Unmanaged<TextBox>.fromOpaque(context!).takeUnretainedValue()
    box.text = text.map { String(cString: $0) }
}

/// A summarizer served by a plugin through `strata_summarizer_vtable`.
///
/// `@unchecked Sendable`: `instance` is only used through the vtable under `lock`.
public final class PluginSummarizer: Summarizer, @unchecked Sendable {
    public let name: String
    private let vtable: strata_summarizer_vtable
    private let instance: UnsafeMutableRawPointer?
    private let lock: InstanceLock
    private let pluginName: String

    public init(plugin: LoadedPlugin, factory: PluginFactory, options: JSONValue) throws(StrataError) {
        let table = factory.vtable.assumingMemoryBound(to: strata_summarizer_vtable.self)
        // Plugins built before ABI 1.5 end before `create_with_host`: read what they declare.
        let v = try readVTable(table, size: table.pointee.struct_size,
                               minimum: MemoryLayout<strata_summarizer_vtable>.offset(of: \.create_with_host)!,
                               seam: "summarizer", plugin: plugin)
        guard v.create != nil || v.create_with_host != nil, v.destroy != nil, v.summarize != nil else {
            throw StrataError(.plugin, "plugin \(plugin.name) (\(plugin.path)): summarizer \"\(factory.name)\" leaves a required function NULL")
        }
        vtable = v
        pluginName = plugin.name
        name = "plugin:\(plugin.name)/\(factory.name)"
        lock = InstanceLock(flags: v.flags)
        instance = try createInstance(v.create, v.create_with_host, config: JSONWriter.string(options), plugin: plugin, factory: factory.name)
    }

    deinit { vtable.destroy(instance) }

    public func summarize(_ texts: [String], maxCharacters: Int) throws(StrataError) -> String {
        guard maxCharacters >= 0 else { throw StrataError(.invalidArgument, "max_chars must not be negative") }
        let box = TextBox()
        let status: Int32 = withExtendedLifetime(box) {
            var pointers: [UnsafeMutablePointer<CChar>?] = texts.map { strdup($0) }
            defer { pointers.forEach { free($0) } }
            return pointers.withUnsafeMutableBufferPointer { p in
                p.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: texts.count) { cp in
                    lock.run {
                        vtable.summarize(instance, cp, texts.count, maxCharacters, textCallback, Unmanaged.passUnretained(box).toOpaque())
                    }
                }
            }
        }
        try pluginCheck(status, pluginName, "summarize")
        guard let text = box.text else { throw StrataError(.backend, "plugin \(pluginName): summarize succeeded but gave no text") }
        return text
    }
}
