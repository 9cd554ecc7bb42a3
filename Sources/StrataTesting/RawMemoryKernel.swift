import CStrata
import StrataCore
import StrataPlugins

/// Calls a plugin's memory-kernel vtable directly, every buffer guarded (`GuardedFloats`): the
/// adapter (`PluginMemoryKernel`) sizes and checks buffers itself and steps on its own when
/// `sequence` is NULL, so only direct calls show what the kernel writes and where.
final class RawMemoryKernel: RawInstance {
    let vtable: strata_memory_kernel_vtable
    /// The vtable's declared size: functions beyond it are treated as NULL.
    let declaredSize: Int
    let instance: UnsafeMutableRawPointer?
    private var destroyed = false

    static func create(_ factory: PluginFactory, config: String) -> (RawOutcome, RawMemoryKernel?) {
        let (v, size) = RawVTable.read(factory, as: strata_memory_kernel_vtable.self)
        let (outcome, out) = RawVTable.create(config: config, create: v.create, createWithHost: v.create_with_host)
        guard outcome.ok else { return (outcome, nil) }
        return (outcome, RawMemoryKernel(vtable: v, declaredSize: size, instance: out))
    }

    private init(vtable: strata_memory_kernel_vtable, declaredSize: Int, instance: UnsafeMutableRawPointer?) {
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

    /// D, 0 when the function is NULL.
    var dimension: Int { vtable.dimension.map { $0(instance) } ?? 0 }
    /// Floats of state per row, 0 when the function is NULL.
    var stateSize: Int { vtable.state_size.map { $0(instance) } ?? 0 }
    /// Log values per row, 0 when the function is NULL.
    var logCount: Int { vtable.log_count.map { $0(instance) } ?? 0 }

    /// log_name(index): nil when the function is NULL or answers NULL.
    func logName(_ index: Int) -> String? { vtable.log_name.flatMap { $0(instance, index) }.map { String(cString: $0) } }

    func initialState(batch: Int, state: GuardedFloats?) -> RawOutcome {
        guard let f = vtable.initial_state else { return RawOutcome(status: Int32(STRATA_ERR_UNSUPPORTED), message: "initial_state is NULL") }
        return RawOutcome.of { f(instance, batch, state?.pointer) }
    }

    /// One step; a nil buffer passes NULL.
    func step(batch: Int, state: GuardedFloats?, hidden: GuardedFloats?, doneMask: GuardedFloats?,
              read: GuardedFloats?, logs: GuardedFloats?) -> RawOutcome {
        guard let f = vtable.step else { return RawOutcome(status: Int32(STRATA_ERR_UNSUPPORTED), message: "step is NULL") }
        return RawOutcome.of {
            f(instance, batch, state?.pointer, hidden.map { UnsafePointer($0.pointer) }, doneMask.map { UnsafePointer($0.pointer) },
              read?.pointer, logs?.pointer)
        }
    }

    func reset(batch: Int, state: GuardedFloats?, keepMask: GuardedFloats?) -> RawOutcome {
        guard let f = vtable.reset else { return RawOutcome(status: Int32(STRATA_ERR_UNSUPPORTED), message: "reset is NULL") }
        return RawOutcome.of { f(instance, batch, state?.pointer, keepMask.map { UnsafePointer($0.pointer) }) }
    }

    /// `steps` steps at once (the caller checks `vtable.sequence` first).
    func sequence(steps: Int, batch: Int, state: GuardedFloats, hidden: GuardedFloats, doneMasks: GuardedFloats?,
                  read: GuardedFloats, logs: GuardedFloats?) -> RawOutcome {
        guard let f = vtable.sequence else { return RawOutcome(status: Int32(STRATA_ERR_UNSUPPORTED), message: "sequence is NULL") }
        return RawOutcome.of {
            f(instance, steps, batch, state.pointer, UnsafePointer(hidden.pointer), doneMasks.map { UnsafePointer($0.pointer) },
              read.pointer, logs?.pointer)
        }
    }

    // MARK: - Checked calls: what every case relies on, failing under kernel.shapes when broken

    /// The initial state of `batch` rows: written in full, finite, nothing outside.
    func checkedInitialState(batch: Int) throws -> [Float] {
        let state = GuardedFloats(count: batch * stateSize)
        try expectOK(initialState(batch: batch, state: state), "initial_state of \(batch) rows")
        try state.expectGuards("initial_state of \(batch) rows", rule: "kernel.shapes")
        try state.expectFinite("initial_state of \(batch) rows", rule: "kernel.shapes")
        return state.values
    }

    /// One step on `state` (updated in place): read and, when `withLogs`, logs written in full,
    /// everything finite, nothing outside, the inputs untouched.
    func checkedStep(batch: Int, state: inout [Float], hidden: [Float], doneMask: [Float]?, withLogs: Bool = true,
                     _ what: String = "step") throws -> (read: [Float], logs: [Float]) {
        let s = GuardedFloats(state), h = GuardedFloats(hidden), m = doneMask.map { GuardedFloats($0) }
        let r = GuardedFloats(count: batch * dimension)
        let l = withLogs ? GuardedFloats(count: batch * logCount) : nil
        try expectOK(step(batch: batch, state: s, hidden: h, doneMask: m, read: r, logs: l), what)
        for (buffer, name) in [(s, "state"), (r, "read")] + (l.map { [($0, "logs")] } ?? []) {
            try buffer.expectGuards("\(what) (\(name))", rule: "kernel.shapes")
            try buffer.expectFinite("\(what) (\(name))", rule: "kernel.shapes")
        }
        try h.expectGuards("\(what) (hidden)", rule: "kernel.shapes")
        try expect(h.values.map(\.bitPattern) == hidden.map(\.bitPattern), "\(what) changed hidden, which is const", rule: "kernel.shapes")
        if let m, let doneMask {
            try expect(m.values.map(\.bitPattern) == doneMask.map(\.bitPattern), "\(what) changed done_mask, which is const", rule: "kernel.shapes")
        }
        state = s.values
        return (r.values, l?.values ?? [])
    }
}
