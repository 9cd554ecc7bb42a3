/// Appends little-endian integers, length-prefixed bytes and raw floats to a byte array: the
/// encoding side of the file store's format (see `FileFormat`).
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    var count: Int { bytes.count }

    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    mutating func raw(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }

    /// A u32 byte count, then the UTF-8 bytes.
    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            u32(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// The floats' IEEE 754 bit patterns, little-endian, without a count (the dimension is in
    /// the file header).
    mutating func floats(_ v: [Float]) {
        #if _endian(little)
        v.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        for f in v { u32(f.bitPattern) }
        #endif
    }

    /// Overwrites 4 bytes at `offset` (for fields known only after what follows them).
    mutating func patch(u32 v: UInt32, at offset: Int) {
        withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
    }

    /// Overwrites 8 bytes at `offset`.
    mutating func patch(u64 v: UInt64, at offset: Int) {
        withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
    }

    mutating func removeAll(keepingCapacity: Bool) { bytes.removeAll(keepingCapacity: keepingCapacity) }
}
