import StrataCore

/// One frame: the unit the log appends and the snapshot is made of.
///
///     offset  size  field
///     0       4     payload length n (little-endian)
///     4       4     CRC-32C of those 4 length bytes
///     8       4     CRC-32C of the payload
///     12      n     payload (a `ChangeCodec` change)
///
/// The length has a checksum of its own so a reader trusts it before reading the payload: a
/// damaged length in the middle of the log is recognised as damage rather than mistaken for a
/// frame that runs past the end of the file (which is what a torn final write looks like).
enum Frame {
    static let headerSize = 12
    /// The smallest payload `ChangeCodec` writes (a sequence number and three zero counts).
    static let minimumPayload = 20
    /// A sanity bound on one payload (1 GiB): a larger commit is refused before it is written,
    /// and a length beyond it is damage.
    static let maximumPayload = 1 << 30

    /// Reserves the header of a frame about to be written into `w`; returns where it starts.
    static func begin(_ w: inout ByteWriter) -> Int {
        let start = w.count
        w.u64(0)
        w.u32(0)
        return start
    }

    /// Fills in the header of the frame that began at `start`, now that its payload is written.
    static func seal(_ w: inout ByteWriter, from start: Int) {
        let length = UInt32(w.count - start - headerSize)
        let (lengthCRC, payloadCRC) = w.bytes.withUnsafeBytes { b in
            var le = length.littleEndian
            let lengthCRC = withUnsafeBytes(of: &le) { CRC32C.checksum($0) }
            return (lengthCRC, CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[(start + headerSize)...])))
        }
        w.patch(u32: length, at: start)
        w.patch(u32: lengthCRC, at: start + 4)
        w.patch(u32: payloadCRC, at: start + 8)
    }

    /// The payload length of a whole, intact frame at `offset` in `bytes`, or nil when the bytes
    /// there are not one (too short, a bad checksum, a length out of bounds).
    static func intactPayloadLength(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        guard bytes.count - offset >= headerSize + minimumPayload else { return nil }
        let length = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let lengthCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 4])) == lengthCRC else { return nil }
        let n = Int(length)
        guard n >= minimumPayload, n <= maximumPayload, n <= bytes.count - offset - headerSize else { return nil }
        let payloadCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        let payload = UnsafeRawBufferPointer(rebasing: bytes[offset + headerSize..<offset + headerSize + n])
        return CRC32C.checksum(payload) == payloadCRC ? n : nil
    }
}
