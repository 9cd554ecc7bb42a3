import CStrata
import StrataCore
import StrataPlugins

/// The rules of include/strata/memory_kernel.h (contract-spec.md, "Memory kernel"), checked by
/// calling a plugin's vtable directly (`RawMemoryKernel`) with a guard around every buffer.
/// Each case names its rule; a write outside a buffer or a non-finite output breaks
/// "kernel.shapes" and a failing call without a message "failure.message", whatever the case.
enum MemoryKernelContract {
    /// The largest difference allowed between two ways of computing the same thing (a done mask
    /// against an explicit reset, `sequence` against single steps): a kernel may order its sums
    /// differently on each path.
    static let tolerance = 1e-5
    /// Rows in a batch, and steps taken before the mask cases, so state is no longer initial.
    static let batch = 3, warmup = 3

    static func run(_ maker: RawMaker<RawMemoryKernel>, session: CheckSession) {
        let runner = CaseRunner(suite: "memory_kernel", session: session)
        let make = maker

        runner.run("dimension, state_size and log names; initial_state, step, reset and sequence write finite values into exactly their buffers",
                   rule: "kernel.shapes") {
            let k = try make.make()
            defer { k.destroy() }
            let d = k.dimension, n = k.stateSize, l = k.logCount
            try expect(d >= 1, "dimension() is \(d)")
            try expect(n >= 1, "state_size() is \(n)")
            for i in 0..<l {
                let name = k.logName(i)
                try expect(name != nil, "log_name(\(i)) is NULL (log_count is \(l))")
                try expect(name?.isEmpty == false, "log_name(\(i)) is empty")
            }
            var rng = SeededRandom(seed: 11)
            var state = try k.checkedInitialState(batch: batch)
            _ = try k.checkedStep(batch: batch, state: &state, hidden: rng.vector(batch * d), doneMask: nil, "step with logs")
            _ = try k.checkedStep(batch: batch, state: &state, hidden: rng.vector(batch * d), doneMask: nil, withLogs: false, "step with logs NULL")
            _ = try k.checkedStep(batch: batch, state: &state, hidden: rng.vector(batch * d), doneMask: [0, 1, 0], "step with a done mask")
            var one = Array(state.prefix(n))
            _ = try k.checkedStep(batch: 1, state: &one, hidden: rng.vector(d), doneMask: nil, "step of a batch of 1")
            let s = GuardedFloats(one), keep = GuardedFloats([0])
            try expectOK(k.reset(batch: 1, state: s, keepMask: keep), "reset")
            try s.expectGuards("reset")
            try s.expectFinite("reset")
            if k.vtable.sequence != nil {
                let steps = 3
                let s = GuardedFloats(try k.checkedInitialState(batch: batch)), h = GuardedFloats(rng.vector(steps * batch * d))
                let m = GuardedFloats([Float](repeating: 0, count: steps * batch))
                let r = GuardedFloats(count: steps * batch * d), logs = GuardedFloats(count: steps * batch * l)
                try expectOK(k.sequence(steps: steps, batch: batch, state: s, hidden: h, doneMasks: m, read: r, logs: logs),
                             "sequence of \(steps) steps")
                for (buffer, name) in [(s, "state"), (r, "read"), (logs, "logs")] {
                    try buffer.expectGuards("sequence (\(name))")
                    try buffer.expectFinite("sequence (\(name))")
                }
                try h.expectGuards("sequence (hidden)")
            }
        }

        runner.run("the same inputs give the same outputs, bit for bit, on one instance and on another", rule: "kernel.deterministic") {
            let options = make.freshOptions()
            let a = try make.make(options: options)
            defer { a.destroy() }
            let first = try trajectory(a)
            let again = try trajectory(a)
            try expect(first.map(\.bitPattern) == again.map(\.bitPattern),
                       "running the same steps twice from the initial state gave other outputs (max difference \(maxAbsDifference(first, again)))")
            let b = try make.make(options: options)
            defer { b.destroy() }
            let other = try trajectory(b)
            try expect(first.map(\.bitPattern) == other.map(\.bitPattern),
                       "a second instance with the same options gave other outputs (max difference \(maxAbsDifference(first, other)))")
        }

        runner.run("a row with done_mask 1 is reset before the step; the other rows are unaffected", rule: "kernel.done_mask") {
            let k = try make.make()
            defer { k.destroy() }
            let d = k.dimension, n = k.stateSize, l = k.logCount
            let initial = try k.checkedInitialState(batch: batch)
            let warm = try warmed(k, initial)
            var rng = SeededRandom(seed: 23)
            let hidden = rng.vector(batch * d)
            // With the mask: row 1 is done.
            var masked = warm
            let (maskedRead, maskedLogs) = try k.checkedStep(batch: batch, state: &masked, hidden: hidden, doneMask: [0, 1, 0], "step with done_mask [0, 1, 0]")
            // The same by hand: row 1 set to its initial state, then a step without a mask.
            var byHand = warm
            byHand.replaceSubrange(n..<2 * n, with: initial[n..<2 * n])
            let (handRead, handLogs) = try k.checkedStep(batch: batch, state: &byHand, hidden: hidden, doneMask: nil, "step without a mask")
            for row in 0..<batch {
                let what = row == 1 ? "row 1 (done) is not reset before the step" : "row \(row) (not done) is affected by row 1's mask"
                for (name, x, y, w) in [("read", maskedRead, handRead, d), ("logs", maskedLogs, handLogs, l), ("state", masked, byHand, n)] {
                    let diff = maxAbsDifference(Array(x[row * w..<(row + 1) * w]), Array(y[row * w..<(row + 1) * w]))
                    try expect(diff <= tolerance, "\(what): its \(name) differs by \(diff) from a reset by hand and an unmasked step")
                }
            }
            // An all-zero mask is no mask.
            var zeros = warm, none = warm
            let z = try k.checkedStep(batch: batch, state: &zeros, hidden: hidden, doneMask: [0, 0, 0], "step with done_mask [0, 0, 0]")
            let o = try k.checkedStep(batch: batch, state: &none, hidden: hidden, doneMask: nil, "step with done_mask NULL")
            let diff = max(maxAbsDifference(z.read, o.read), maxAbsDifference(z.logs, o.logs), maxAbsDifference(zeros, none))
            try expect(diff <= tolerance, "a done mask of zeros differs by \(diff) from a NULL mask")
        }

        runner.run("reset sets rows with keep_mask 0 to the initial state and leaves the others untouched", rule: "kernel.reset") {
            let k = try make.make()
            defer { k.destroy() }
            let n = k.stateSize
            let initial = try k.checkedInitialState(batch: batch)
            let warm = try warmed(k, initial)
            let s = GuardedFloats(warm), keep = GuardedFloats([0, 1, 0])
            try expectOK(k.reset(batch: batch, state: s, keepMask: keep), "reset with keep_mask [0, 1, 0]")
            try s.expectGuards("reset", rule: "kernel.shapes")
            let after = s.values
            for row in 0..<batch {
                let got = Array(after[row * n..<(row + 1) * n]).map(\.bitPattern)
                if row == 1 {
                    try expect(got == Array(warm[n..<2 * n]).map(\.bitPattern), "row 1 (keep 1) changed")
                } else {
                    try expect(got == Array(initial[row * n..<(row + 1) * n]).map(\.bitPattern), "row \(row) (keep 0) is not the initial state")
                }
            }
            try expectOK(k.reset(batch: batch, state: s, keepMask: GuardedFloats([1, 1, 1])), "reset with keep_mask [1, 1, 1]")
            try expect(s.values.map(\.bitPattern) == after.map(\.bitPattern), "reset with every row kept changed the state")
        }

        runner.run("sequence equals step by step (max abs difference <= 1e-5)", rule: "kernel.sequence") {
            let k = try make.make()
            defer { k.destroy() }
            guard k.vtable.sequence != nil else { return }
            let d = k.dimension, l = k.logCount, steps = 4, rows = 2
            var rng = SeededRandom(seed: 31)
            let hidden = rng.vector(steps * rows * d)
            // Row 1 is done at step 2: the reset must happen inside the sequence too.
            let masks: [Float] = [0, 0, 0, 0, 0, 1, 0, 0]
            for (useMasks, useLogs) in [(true, true), (false, false)] {
                let initial = try k.checkedInitialState(batch: rows)
                // Step by step.
                var stepped = initial
                var reads: [Float] = [], logs: [Float] = []
                for t in 0..<steps {
                    let out = try k.checkedStep(batch: rows, state: &stepped, hidden: Array(hidden[t * rows * d..<(t + 1) * rows * d]),
                                                doneMask: useMasks ? Array(masks[t * rows..<(t + 1) * rows]) : nil, withLogs: useLogs)
                    reads += out.read
                    logs += out.logs
                }
                // At once.
                let s = GuardedFloats(initial), r = GuardedFloats(count: steps * rows * d)
                let lg = useLogs ? GuardedFloats(count: steps * rows * l) : nil
                let what = "sequence of \(steps) steps" + (useMasks ? " with done masks" : "") + (useLogs ? "" : " and logs NULL")
                try expectOK(k.sequence(steps: steps, batch: rows, state: s, hidden: GuardedFloats(hidden),
                                        doneMasks: useMasks ? GuardedFloats(masks) : nil, read: r, logs: lg), what)
                for (buffer, name) in [(s, "state"), (r, "read")] + (lg.map { [($0, "logs")] } ?? []) {
                    try buffer.expectGuards("\(what) (\(name))", rule: "kernel.shapes")
                }
                for (name, x, y) in [("read", r.values, reads), ("logs", lg?.values ?? [], logs), ("final state", s.values, stepped)] {
                    let diff = maxAbsDifference(x, y)
                    try expect(diff <= tolerance, "\(what): \(name) differs by \(diff) from \(steps) single steps")
                }
            }
        }

        make.checkUnknownOption(runner, kind: "a memory kernel")

        runner.run("a failing call leaves a message with host->fail (NULL state or hidden is STRATA_ERR_INVALID_ARGUMENT)", rule: "failure.message") {
            let k = try make.make()
            defer { k.destroy() }
            let d = k.dimension, n = k.stateSize, l = k.logCount
            func buffers(_ rows: Int) -> (GuardedFloats, GuardedFloats, GuardedFloats, GuardedFloats) {
                (GuardedFloats(count: rows * n, fillBits: 0), GuardedFloats(count: rows * d, fillBits: 0),
                 GuardedFloats(count: rows * d), GuardedFloats(count: rows * l))
            }
            let (s, h, r, lg) = buffers(1)
            try expectFailure(k.step(batch: 1, state: nil, hidden: h, doneMask: nil, read: r, logs: lg), .invalidArgument, "step with state NULL")
            try expectFailure(k.step(batch: 1, state: s, hidden: nil, doneMask: nil, read: r, logs: lg), .invalidArgument, "step with hidden NULL")
            try expectFailure(k.initialState(batch: 1, state: nil), .invalidArgument, "initial_state with state NULL")
            try expectFailure(k.reset(batch: 1, state: nil, keepMask: GuardedFloats([0])), .invalidArgument, "reset with state NULL")
            let (s0, h0, r0, l0) = buffers(0)
            let zero = k.step(batch: 0, state: s0, hidden: h0, doneMask: nil, read: r0, logs: l0)
            try expect(!zero.ok, "step with batch 0 returned STRATA_OK")
            try expectMessage(zero, "step with batch 0")
            try make.expectCreateMessage(kind: "a memory kernel")
        }
    }

    /// The state of `batch` rows after `warmup` steps from `initial`, so a reset shows.
    static func warmed(_ k: RawMemoryKernel, _ initial: [Float]) throws -> [Float] {
        var rng = SeededRandom(seed: 17)
        var state = initial
        for _ in 0..<warmup { _ = try k.checkedStep(batch: batch, state: &state, hidden: rng.vector(batch * k.dimension), doneMask: nil, "warm-up step") }
        return state
    }

    /// Everything a short run from the initial state writes (reads, logs, states, in order),
    /// with a done mask on the way.
    static func trajectory(_ k: RawMemoryKernel) throws -> [Float] {
        var rng = SeededRandom(seed: 19)
        var state = try k.checkedInitialState(batch: batch)
        var out = state
        for t in 0..<4 {
            let (read, logs) = try k.checkedStep(batch: batch, state: &state, hidden: rng.vector(batch * k.dimension),
                                                 doneMask: t == 2 ? [1, 0, 0] : nil)
            out += read + logs + state
        }
        return out
    }
}
