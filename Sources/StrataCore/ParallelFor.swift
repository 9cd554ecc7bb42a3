import Dispatch

/// Runs `body(0) ..< body(count)` on the worker threads and returns when all have finished.
///
/// `DispatchQueue.concurrentPerform` wants a `@Sendable` closure; kernels here pass raw
/// pointers into buffers that each iteration slices disjointly, which the type system cannot
/// see. Since `concurrentPerform` returns only after every iteration ends, `body` never
/// outlives this call, and the caller promises that iterations touch disjoint memory (or only
/// read shared memory). With `count` 1 the body runs on the calling thread.
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    guard count > 1 else {
        if count == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { escapable in
        let box = UncheckedSendableBox(escapable)
        DispatchQueue.concurrentPerform(iterations: count) { box.value($0) }
    }
}

/// Carries a value into a `@Sendable` closure when the caller guarantees the access is safe.
public struct UncheckedSendableBox<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
