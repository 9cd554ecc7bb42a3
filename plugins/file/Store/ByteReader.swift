import StrataCore

/// Reads what `ByteWriter` wrote, from borrowed bytes. Every read checks the bounds and throws
/// `.corrupt` with `what` (the file and offset being decoded) when the bytes end early: the
/// bytes passed their checksum, so a short read means a writer bug or a forged checksum, and
/// it must not become a crash.
struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0
    private let what: String

    init(_ bytes: UnsafeRawBufferPointer, what: String) {
        self.bytes = bytes
        self.what = what
    }

    var remaining: Int { bytes.count - offset }

    private mutating func take(_ n: Int) throws(StrataError) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= remaining else {
            throw StrataError(.corrupt, "\(what) ends early: \(n) more bytes needed at byte \(offset), \(remaining) left")
        }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])
    }

    mutating func u32() throws(StrataError) -> UInt32 {
        UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self))
    }

    mutating func u64() throws(StrataError) -> UInt64 {
        UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self))
    }

    mutating func raw(_ n: Int) throws(StrataError) -> UnsafeRawBufferPointer { try take(n) }

    /// A u32 byte count and that many bytes.
    mutating func lengthPrefixed() throws(StrataError) -> UnsafeRawBufferPointer {
        try take(Int(try u32()))
    }

    /// `count` floats written by `ByteWriter.floats`.
    mutating func floats(_ count: Int) throws(StrataError) -> [Float] {
        let source = try take(count * 4)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            #if _endian(little)
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            #else
            for i in 0..<count {
                buffer[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
            #endif
            initialized = count
        }
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` with a typed throw (the standard one rethrows `any Error`).
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws(StrataError) -> T) throws(StrataError) -> T {
        try withUnsafeBytes { b in Result { () throws(StrataError) -> T in try body(b) } }.get()
    }
}
