import CStrata
import StrataCore
import StrataPlugins

/// A seam's `create` (ABI 1.0) and `create_with_host` (ABI 1.5), as Swift imports them.
typealias RawCreate = @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
typealias RawCreateWithHost = @convention(c) (
    UnsafePointer<strata_host_api>?, UnsafePointer<CChar>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int32

/// How the raw contract checks (`RawVectorStore`, `RawEmbedder`, `RawSummarizer`, `RawMemoryKernel`) read a
/// vtable and make an instance: exactly as the host does, so what they see is what the engine
/// would get, minus the adapter's checks and repairs.
enum RawVTable {
    /// The vtable of `factory` as `V`, with only what its struct_size declares copied and the rest
    /// zero: a function beyond the declared size is NULL, as for the host (an older plugin's
    /// struct ends early, and reading past it would read whatever follows it in the file).
    static func read<V>(_ factory: PluginFactory, as type: V.Type) -> (vtable: V, declaredSize: Int) {
        let declared = Int(factory.rawVTable.load(as: UInt32.self))
        let full = MemoryLayout<V>.size
        let copy = UnsafeMutableRawPointer.allocate(byteCount: full, alignment: MemoryLayout<V>.alignment)
        defer { copy.deallocate() }
        copy.initializeMemory(as: UInt8.self, repeating: 0, count: full)
        copy.copyMemory(from: factory.rawVTable, byteCount: min(full, max(0, declared)))
        return (copy.load(as: V.self), declared)
    }

    /// Calls create_with_host when the vtable fills it, else create (the host's order), and
    /// returns what it answered with the instance.
    static func create(config: String, create: RawCreate?, createWithHost: RawCreateWithHost?)
        -> (RawOutcome, UnsafeMutableRawPointer?)
    {
        guard create != nil || createWithHost != nil else {
            return (RawOutcome(status: Int32(STRATA_ERR_PLUGIN), message: "the vtable leaves both create and create_with_host NULL"), nil)
        }
        var out: UnsafeMutableRawPointer?
        let outcome = RawOutcome.of {
            config.withCString { c in
                if let createWithHost { return createWithHost(PluginHost.table, c, &out) }
                return create!(c, &out)
            }
        }
        return (outcome, outcome.ok ? out : nil)
    }
}

/// An instance a raw contract check made and must destroy.
protocol RawInstance: AnyObject {
    /// Creates one from `config` (the options as JSON text): the plugin's answer and, on
    /// success, the instance.
    static func create(_ factory: PluginFactory, config: String) -> (RawOutcome, Self?)
    /// Frees it; later calls do nothing.
    func destroy()
}

/// Makes instances of one factory for the cases of a raw contract: each gets fresh options
/// (`{n}` made new, see `PluginCheck.run`), unless a case needs the same options twice.
struct RawMaker<Instance: RawInstance> {
    let factory: PluginFactory
    /// The user's options with "{n}" made fresh for each call.
    let freshOptions: () -> JSONValue

    /// A new instance; a refusal fails the case with the plugin's status and message.
    func make(options: JSONValue? = nil) throws -> Instance {
        let (outcome, instance) = Instance.create(factory, config: JSONWriter.string(options ?? freshOptions()))
        guard let instance else {
            throw ConformanceFailure(message: "create failed: \(outcome.statusName): \(outcome.message ?? "(no message)")")
        }
        return instance
    }

    /// Runs the `create.options` case every seam shares: an unknown option key is refused with
    /// STRATA_ERR_INVALID_CONFIG and a message naming the key (contract-spec "Options").
    /// `kind` comes with its article ("an embedder").
    func checkUnknownOption(_ runner: CaseRunner, kind: String) {
        runner.run("refuses an unknown option key, naming it", rule: "create.options") {
            let key = "strata_checker_no_such_option"
            let (outcome, instance) = Instance.create(factory, config: JSONWriter.string(freshOptions().setting(key, true)))
            instance?.destroy()
            try expectFailure(outcome, .invalidConfig, "create of \(kind) with the unknown option \"\(key)\"")
            try expect(outcome.message?.contains(key) == true,
                       "the message for an unknown option does not name it: \"\(outcome.message ?? "")\"")
        }
    }

    /// For `failure.message`: when create refuses an unknown option, it says why.
    func expectCreateMessage(kind: String) throws {
        let (outcome, instance) = Instance.create(factory, config: JSONWriter.string(freshOptions().setting("strata_checker_no_such_option", true)))
        instance?.destroy()
        try expectMessage(outcome, "create of \(kind) with an unknown option")
    }
}

/// `expect` failing under another rule than the case's own.
func expect(_ condition: Bool, _ message: @autoclosure () -> String, rule: String) throws {
    if !condition { throw ConformanceFailure(message: message(), rule: rule) }
}
