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

    /// What the bytes at `offset` are, read as the start of a frame.
    enum Inspection: Equatable {
        /// A whole frame whose checksums match: `length` payload bytes follow its header.
        case intact(length: Int)
        /// Fewer than `headerSize` bytes remain: a length header written in part.
        case partialHeader(available: Int)
        /// The length field's own checksum does not match: its length cannot be trusted.
        case badLengthChecksum(stored: UInt32, computed: UInt32)
        /// The length checksum matches, but the length is one no writer produces.
        case lengthOutOfBounds(length: Int)
        /// A trusted length, and fewer payload bytes than it says before the end of the file.
        case short(length: Int, available: Int)
        /// A trusted length, all of its payload present, and a payload checksum that fails.
        case badPayloadChecksum(length: Int, stored: UInt32, computed: UInt32)

        /// The problem in words, for errors and findings.
        var problem: String {
            switch self {
            case .intact(let n): "an intact frame of \(n) payload bytes"
            case .partialHeader(let available): "only \(available) of the \(Frame.headerSize) header bytes"
            case .badLengthChecksum(let stored, let computed):
                "length checksum \(hex(computed)), expected \(hex(stored)): the length field is damaged"
            case .lengthOutOfBounds(let n): "a length of \(n) bytes, outside \(Frame.minimumPayload)...\(Frame.maximumPayload)"
            case .short(let n, let available): "a payload of \(n) bytes, of which only \(available) are in the file"
            case .badPayloadChecksum(let n, let stored, let computed):
                "payload checksum \(hex(computed)), expected \(hex(stored)) (a complete frame of \(n) payload bytes)"
            }
        }
    }

    /// Reads the header at `offset` and checks what it can. Complexity: O(1) unless the length
    /// checksum matches, then O(length).
    static func inspect(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Inspection {
        let available = bytes.count - offset
        guard available >= headerSize else { return .partialHeader(available: max(available, 0)) }
        let length = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let lengthCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 4]))
        guard computed == lengthCRC else { return .badLengthChecksum(stored: lengthCRC, computed: computed) }
        let n = Int(length)
        guard n >= minimumPayload, n <= maximumPayload else { return .lengthOutOfBounds(length: n) }
        guard n <= available - headerSize else { return .short(length: n, available: available - headerSize) }
        let payloadCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        let payload = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[offset + headerSize..<offset + headerSize + n]))
        return payload == payloadCRC ? .intact(length: n) : .badPayloadChecksum(length: n, stored: payloadCRC, computed: payload)
    }

    /// The payload length of a whole, intact frame at `offset` in `bytes`, or nil when the bytes
    /// there are not one (too short, a bad checksum, a length out of bounds).
    static func intactPayloadLength(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        guard bytes.count - offset >= headerSize + minimumPayload else { return nil }
        if case .intact(let n) = inspect(bytes, at: offset) { return n }
        return nil
    }
}
