import Glibc

/// float32 tensors in the safetensors format (an 8-byte little-endian header length, a JSON
/// header `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}`, then
/// the raw little-endian data), the format Hugging Face, PyTorch and numpy users exchange
/// weights in. Only F32 is read or written: memory kernels compute in float32.
public enum Safetensors {
    /// One tensor: its shape and its values, row-major.
    public struct Tensor: Sendable, Equatable {
        public var shape: [Int]
        public var values: [Float]
        public init(shape: [Int], values: [Float]) {
            self.shape = shape
            self.values = values
        }
        public var count: Int { shape.reduce(1, *) }
    }

    /// The `__metadata__` strings of the file at `path` (empty when it has none).
    public static func metadata(_ path: String) throws(StrataError) -> [String: String] {
        try readFile(path, metadataOnly: true).metadata
    }

    /// Reads every tensor of the file at `path`, or only those in `names` (the others, of any
    /// dtype, are passed over: a model file may carry integer buffers nobody computes with).
    /// A name in `names` that the file lacks is simply absent from the answer.
    /// - Throws: `.io` when the file cannot be read; `.corrupt` naming the file and the tensor
    ///   when the header or the data is malformed; `.unsupported` for a dtype other than F32.
    public static func read(_ path: String, names: Set<String>? = nil) throws(StrataError) -> [String: Tensor] {
        try readFile(path, metadataOnly: false, names: names).tensors
    }

    private static func readFile(
        _ path: String, metadataOnly: Bool, names: Set<String>? = nil
    ) throws(StrataError) -> (tensors: [String: Tensor], metadata: [String: String]) {
        let mapped = try Mapped(path, names: metadataOnly ? [] : names)
        var out: [String: Tensor] = [:]
        for (name, entry) in mapped.entries {
            out[name] = Tensor(shape: entry.shape, values: Array(mapped.floats(name)))
        }
        return (out, mapped.metadata)
    }

    /// Where one tensor lies in a mapped file.
    public struct Entry: Sendable, Equatable {
        public var shape: [Int]
        /// Byte offsets in the file.
        public var bytes: Range<Int>
        public var count: Int { shape.reduce(1, *) }
    }

    /// A safetensors file mapped, its F32 tensors read in place: nothing is copied, and only the
    /// pages a caller touches become resident (`MappedFile`). Keep it alive while its floats
    /// are used.
    public final class Mapped: Sendable {
        public let file: MappedFile
        /// The tensors read (those in `names`, or every one), checked: F32, a shape, and data
        /// offsets that hold exactly that many floats inside the file.
        public let entries: [String: Entry]
        /// The header's `__metadata__` strings.
        public let metadata: [String: String]

        /// Maps `path` and checks the header of the tensors in `names` (every tensor when nil;
        /// the others, of any dtype, are passed over). A name the file lacks is absent from
        /// `entries`.
        /// - Throws: as `Safetensors.read`.
        public init(_ path: String, names: Set<String>? = nil) throws(StrataError) {
            let file = try MappedFile(path)
            let bytes = file.bytes
            guard bytes.count >= 8 else { throw StrataError(.corrupt, "\(path): \(bytes.count) bytes, too short for a safetensors file") }
            var headerLength = 0
            for i in 0..<8 { headerLength |= Int(bytes[i]) << (8 * i) }
            guard headerLength > 1, headerLength <= bytes.count - 8, headerLength < 100_000_000 else {
                throw StrataError(.corrupt, "\(path): header length \(headerLength) does not fit the file's \(bytes.count) bytes")
            }
            let header: JSONValue
            do {
                header = try JSONParser.parse(bytes: UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)]).assumingMemoryBound(to: UInt8.self),
                                              what: "\(path) header")
            } catch {
                // A file, not a request: a header that does not parse is damage.
                throw StrataError(.corrupt, "\(path): not a safetensors file: \(error.message)")
            }
            guard case .object(let items) = header else { throw StrataError(.corrupt, "\(path): the header is not a JSON object") }
            var metadata: [String: String] = [:]
            if case .object(let m)? = items["__metadata__"] {
                for (k, v) in m { if case .string(let text) = v { metadata[k] = text } }
            }
            let dataStart = 8 + headerLength
            let dataCount = bytes.count - dataStart
            var entries: [String: Entry] = [:]
            for (name, entry) in items where name != "__metadata__" && names.map({ $0.contains(name) }) ?? true {
                guard case .object(let e) = entry, case .string(let dtype)? = e["dtype"], case .array(let shapeJSON)? = e["shape"],
                    case .array(let offsets)? = e["data_offsets"], offsets.count == 2,
                    case .number(let begin)? = offsets.first, case .number(let end)? = offsets.last
                else { throw StrataError(.corrupt, "\(path): tensor \"\(name)\" lacks dtype, shape or data_offsets") }
                guard dtype == "F32" else {
                    throw StrataError(.unsupported, "\(path): tensor \"\(name)\" is \(dtype); memory kernels read F32 only")
                }
                var shape: [Int] = []
                for s in shapeJSON {
                    guard case .number(let x) = s, x >= 0, x == x.rounded(), x < 1e12 else {
                        throw StrataError(.corrupt, "\(path): tensor \"\(name)\" has a bad shape")
                    }
                    shape.append(Int(x))
                }
                let count = shape.reduce(1, *)
                guard begin >= 0, end >= begin, end <= Double(dataCount), Int(end) - Int(begin) == count * 4 else {
                    throw StrataError(.corrupt, "\(path): tensor \"\(name)\" data_offsets [\(Int(begin)), \(Int(end))] do not hold \(count) floats within the \(dataCount) data bytes")
                }
                // Floats are read in place, so they must sit on a 4-byte boundary (the format
                // pads its header to 8 bytes; a writer that packed a tensor oddly made a file
                // nobody can read without copying).
                guard (dataStart + Int(begin)) % 4 == 0 else {
                    throw StrataError(.corrupt, "\(path): tensor \"\(name)\" starts at byte \(dataStart + Int(begin)), not on a float boundary")
                }
                entries[name] = Entry(shape: shape, bytes: (dataStart + Int(begin))..<(dataStart + Int(end)))
            }
            self.file = file
            self.entries = entries
            self.metadata = metadata
        }

        /// The floats of tensor `name`, in place in the file. `name` must be in `entries`.
        public func floats(_ name: String) -> UnsafeBufferPointer<Float> {
            let e = entries[name]!
            return UnsafeBufferPointer(start: (file.bytes.baseAddress! + e.bytes.lowerBound).assumingMemoryBound(to: Float.self),
                                       count: e.count)
        }
    }

    /// Writes `tensors` to `path` (names in sorted order), replacing the file atomically;
    /// `metadata` goes in the header's `__metadata__` (string to string, as the format says).
    public static func write(_ tensors: [String: Tensor], to path: String, metadata: [String: String] = [:]) throws(StrataError) {
        var header: [String: JSONValue] = [:]
        if !metadata.isEmpty { header["__metadata__"] = .object(metadata.mapValues { .string($0) }) }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            guard t.values.count == t.count else {
                throw StrataError(.invalidArgument, "tensor \"\(name)\" has \(t.values.count) values for shape \(t.shape)")
            }
            header[name] = .object(["dtype": "F32", "shape": .array(t.shape.map { .number(Double($0)) }),
                                    "data_offsets": .array([.number(Double(offset)), .number(Double(offset + t.count * 4))])])
            offset += t.count * 4
        }
        var text = Array(JSONWriter.string(.object(header)).utf8)
        while (text.count + 8) % 8 != 0 { text.append(0x20) }  // the format pads the header with spaces to 8 bytes
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + text.count + offset)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: text.count >> (8 * i))) }
        bytes += text
        for name in names { tensors[name]!.values.withUnsafeBytes { bytes += $0 } }
        try writeFile(bytes, to: path)
    }

    private static func writeFile(_ bytes: [UInt8], to path: String) throws(StrataError) {
        let temporary = path + ".tmp-\(getpid())"
        guard let f = fopen(temporary, "wb") else { throw StrataError(.io, "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, f) }
        let flushed = fflush(f) == 0 && fsync(fileno(f)) == 0
        fclose(f)
        guard written == bytes.count, flushed, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw StrataError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
