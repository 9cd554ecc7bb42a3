import StrataCore

/// What a graph's compressed copies of its rows are made with (`HNSWCodes`): their kind and, for
/// int8, each dimension's offset and step. The store image saves them (`StoreImage`), so that a
/// process walking the mapped image makes each copy exactly as a process that loads the rows
/// and trains its copies on them: both walks read the same bytes and find the same hits.
///
/// Layout, little-endian: u32 kind (1 fp16, 2 int8), u32 dimension, u64 rows trained on; for
/// int8, offset f32 x dimension then step f32 x dimension; u32 CRC-32C of the bytes before it.
struct CodesParameters: Equatable, Sendable {
    var kind: VectorIndexSettings.Compression
    /// int8: each dimension's smallest value and step (range / 255); empty for fp16.
    var offset: [Float]
    var step: [Float]
    /// Live rows the int8 ranges were trained on (0 for fp16).
    var trainedOn: Int

    private static func code(_ kind: VectorIndexSettings.Compression) -> UInt32 {
        switch kind {
        case .none: 0
        case .fp16: 1
        case .int8: 2
        }
    }

    var encoded: [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        put(Self.code(kind))
        put(UInt32(offset.count))
        put(UInt64(trainedOn))
        for v in offset + step { put(v.bitPattern) }
        put(CRC32C.checksum(out.withUnsafeBytes { $0 }))
        return out
    }

    /// Reads `bytes` (the image's codes section); nil when it is empty (no compression).
    /// - Throws: `.corrupt` when it is damaged or made for another dimension.
    init?(encoded bytes: UnsafeRawBufferPointer, dimension: Int) throws(StrataError) {
        guard !bytes.isEmpty else { return nil }
        func bad(_ why: String) -> StrataError { StrataError(.corrupt, "its compression parameters \(why)") }
        guard bytes.count >= 20 else { throw bad("are cut short (\(bytes.count) bytes)") }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 4)])) == u32(bytes.count - 4) else {
            throw bad("do not match their checksum")
        }
        let kinds: [UInt32: VectorIndexSettings.Compression] = [1: .fp16, 2: .int8]
        guard let kind = kinds[u32(0)] else { throw bad("name an unknown kind (\(u32(0)))") }
        let count = Int(u32(4))
        guard count == (kind == .int8 ? dimension : 0), bytes.count == 20 + 8 * count else {
            throw bad("do not fit dimension \(dimension)")
        }
        self.kind = kind
        trainedOn = Int(truncatingIfNeeded: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        offset = (0..<count).map { Float(bitPattern: u32(16 + 4 * $0)) }
        step = (0..<count).map { Float(bitPattern: u32(16 + 4 * (count + $0))) }
    }

    init(kind: VectorIndexSettings.Compression, offset: [Float], step: [Float], trainedOn: Int) {
        self.kind = kind
        self.offset = offset
        self.step = step
        self.trainedOn = trainedOn
    }
}
