/// A caller-owned float buffer as the checker hands it to a plugin, with guard floats on both
/// sides: a plugin that writes even one float before or after the floats it was given room for
/// changes a guard, which a plain Swift array could not show (the write would land in someone
/// else's memory, or nowhere visible).
///
/// Guards and "not written yet" fillers are NaNs with payloads no arithmetic produces, compared
/// bit for bit, so a plugin writing any computed value over one is seen.
final class GuardedFloats {
    /// Floats of guard on each side.
    static let guardCount = 16
    /// The guard pattern (a quiet NaN with a payload).
    static let guardBits: UInt32 = 0x7FC5_A5A5
    /// What `unwritten` buffers hold before the call: non-finite, so a float the plugin should
    /// have written and did not fails the "finite" checks.
    static let unwrittenBits: UInt32 = 0x7FC0_BAD0

    /// Floats between the guards.
    let count: Int
    private let storage: UnsafeMutablePointer<Float>

    /// `count` floats, each `Float(bitPattern: fillBits)`.
    init(count: Int, fillBits: UInt32 = GuardedFloats.unwrittenBits) {
        self.count = count
        storage = .allocate(capacity: count + 2 * Self.guardCount)
        storage.initialize(repeating: Float(bitPattern: Self.guardBits), count: count + 2 * Self.guardCount)
        (storage + Self.guardCount).update(repeating: Float(bitPattern: fillBits), count: count)
    }

    /// The floats of `values`, guarded.
    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { storage.deallocate() }

    /// The first float between the guards: what the plugin receives (never NULL, even for 0 floats,
    /// so a plugin that writes through it anyway hits the guard after).
    var pointer: UnsafeMutablePointer<Float> { storage + Self.guardCount }

    /// The floats between the guards.
    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Rows of `width` floats.
    func rows(_ width: Int) -> [[Float]] {
        let v = values
        guard width > 0 else { return [] }
        return stride(from: 0, to: v.count, by: width).map { Array(v[$0..<min(v.count, $0 + width)]) }
    }

    /// Overwrites the floats between the guards (the guards stay as they are).
    func set(_ values: [Float]) {
        precondition(values.count == count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// How many guard floats before and after were changed.
    var damagedGuards: (before: Int, after: Int) {
        let g = Self.guardCount
        let before = (0..<g).filter { storage[$0].bitPattern != Self.guardBits }.count
        let after = (0..<g).filter { storage[g + count + $0].bitPattern != Self.guardBits }.count
        return (before, after)
    }

    /// Fails (under `rule`) when the plugin wrote outside the buffer.
    func expectGuards(_ what: String, rule: String? = nil) throws {
        let (before, after) = damagedGuards
        guard before > 0 || after > 0 else { return }
        throw ConformanceFailure(
            message: "\(what) wrote outside its buffer of \(count) floats: \(before) float(s) before it, \(after) after it changed",
            rule: rule)
    }

    /// Fails (under `rule`) unless every float between the guards is finite.
    func expectFinite(_ what: String, rule: String? = nil) throws {
        let v = values
        guard let bad = v.firstIndex(where: { !$0.isFinite }) else { return }
        let unwritten = v.filter { $0.bitPattern == Self.unwrittenBits }.count
        throw ConformanceFailure(
            message: "\(what): float \(bad) of \(count) is \(v[bad].isNaN ? "NaN" : "infinite")"
                + (unwritten > 0 ? " (\(unwritten) float(s) were not written at all)" : ""),
            rule: rule)
    }
}

/// The largest absolute difference between two equally long float arrays (infinity when their
/// lengths differ or a float is not finite, so it never passes a tolerance by accident).
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Double {
    guard a.count == b.count else { return .infinity }
    var worst = 0.0
    for (x, y) in zip(a, b) {
        let d = abs(Double(x) - Double(y))
        if d.isNaN { return .infinity }
        worst = max(worst, d)
    }
    return worst
}
