#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataTensor

/// The encoder's products packed for `strata_gemm_packed` (43 MB), kept beside the model so that
/// a process maps them instead of packing them again: packing cost a fresh `strata recall` about
/// 30 ms (the copy, and faulting in 43 MB of new memory), where the mapped file is in the page
/// cache and shared by every process that uses the model.
///
/// The file (`.strata-packed-weights-p16`, the panel width in its name) holds, in order: the
/// magic `STRATAPW`; format version, panel width, weights digest and product count (u32 each);
/// the model file's identity (`WeightsDigestCache.identity`, length-prefixed, padded to 8
/// bytes); outputs, inputs and byte offset of each product (u64 each); the products, each at an
/// offset that is a multiple of 64; and last the CRC-32C of every byte before it. It is used only
/// when every one of these matches the model being loaded and the checksum holds, so a changed
/// model, another CPU's panel width, a cut or damaged file are each packed again (and the file
/// written again). It is written whole and renamed into place; when the model's folder is not
/// writable nothing is kept and each load packs.
enum PackedWeightsCache {
    static let magic = Array("STRATAPW".utf8)
    static let version: UInt32 = 1
    static var fileName: String { ".strata-packed-weights-p\(PackedLinear.panelWidth)" }

    /// The products read back: each one's packed floats, in `file`.
    struct Loaded {
        let file: MappedFile
        let products: [UnsafePointer<Float>]
    }

    /// The products for a model whose file has `identity` and whose weights `digest`, with these
    /// shapes (outputs, inputs) in order, or nil when the file is missing or does not match.
    static func load(in directory: String, identity: String, digest: UInt32, shapes: [(outputs: Int, inputs: Int)]) -> Loaded? {
        guard let file = try? MappedFile(directory + "/" + fileName, what: "packed weights"), file.bytes.count > 4 else { return nil }
        let bytes = file.bytes
        var reader = Reader(bytes: bytes)
        guard reader.take(magic.count).map(Array.init) == magic, reader.u32() == version,
              reader.u32() == UInt32(PackedLinear.panelWidth), reader.u32() == digest, reader.u32() == UInt32(shapes.count),
              let length = reader.u32(), let stored = reader.take(Int(length)), Array(stored) == Array(identity.utf8),
              reader.skip(to: (reader.at + 7) / 8 * 8) else { return nil }
        var offsets: [Int] = []
        for shape in shapes {
            guard reader.u64() == UInt64(shape.outputs), reader.u64() == UInt64(shape.inputs), let offset = reader.u64(),
                  offset % 64 == 0, offset >= UInt64(reader.at) else { return nil }
            let floats = PackedLinear.packedCount(outputs: shape.outputs, inputs: shape.inputs)
            guard Int(offset) + floats * 4 <= bytes.count - 4 else { return nil }
            offsets.append(Int(offset))
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 4)])
        guard CRC32C.checksum(body) == bytes.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self).littleEndian else { return nil }
        return Loaded(file: file, products: offsets.map { (bytes.baseAddress! + $0).assumingMemoryBound(to: Float.self) })
    }

    /// Writes `layers`' packed weights for the model of `identity` and `digest` (nothing when the
    /// folder is not writable or the disk is full: the next load packs again).
    static func save(_ layers: [PackedLinear], in directory: String, identity: String, digest: UInt32) {
        var head: [UInt8] = magic
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { head.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { head.append(contentsOf: $0) } }
        u32(version)
        u32(UInt32(PackedLinear.panelWidth))
        u32(digest)
        u32(UInt32(layers.count))
        u32(UInt32(identity.utf8.count))
        head.append(contentsOf: identity.utf8)
        while head.count % 8 != 0 { head.append(0) }
        var offset = (head.count + layers.count * 24 + 63) / 64 * 64
        var offsets: [Int] = []
        for layer in layers {
            offsets.append(offset)
            u64(UInt64(layer.outputs))
            u64(UInt64(layer.inputs))
            u64(UInt64(offset))
            offset = (offset + layer.packedWeights.count * 4 + 63) / 64 * 64
        }
        let path = directory + "/" + fileName
        // Unique per writer: two threads of one process may load the model at once.
        let temporary = path + ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        var crc: UInt32 = 0
        var written = 0
        var ok = true
        /// Writes `chunk` whole (the checksum covers it unless it is the checksum).
        func put(_ chunk: UnsafeRawBufferPointer, checksummed: Bool = true) {
            guard ok else { return }
            if checksummed { crc = CRC32C.checksum(chunk, continuing: crc) }
            var done = 0
            while done < chunk.count {
                let n = write(fd, chunk.baseAddress! + done, chunk.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { ok = false; return }
                done += n
            }
            written += chunk.count
        }
        let zeros = [UInt8](repeating: 0, count: 64)
        head.withUnsafeBytes { put($0) }
        for (layer, at) in zip(layers, offsets) {
            zeros.withUnsafeBytes { put(UnsafeRawBufferPointer(rebasing: $0[0..<(at - written)])) }  // to a multiple of 64
            put(UnsafeRawBufferPointer(layer.packedWeights))
        }
        withUnsafeBytes(of: crc.littleEndian) { put($0, checksummed: false) }
        close(fd)
        if !ok || rename(temporary, path) != 0 { unlink(temporary) }
    }

    /// Reads little-endian fields in order; nil past the end.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var at = 0

        mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
            guard count >= 0, at + count <= bytes.count else { return nil }
            defer { at += count }
            return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + count)])
        }

        mutating func u32() -> UInt32? { take(4).map { $0.loadUnaligned(as: UInt32.self).littleEndian } }
        mutating func u64() -> UInt64? { take(8).map { $0.loadUnaligned(as: UInt64.self).littleEndian } }

        mutating func skip(to target: Int) -> Bool {
            guard target >= at, target <= bytes.count else { return false }
            at = target
            return true
        }
    }
}
