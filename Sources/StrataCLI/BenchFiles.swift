#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// Row-major float vectors read from a benchmark file.
struct FloatMatrix {
    var rows: Int
    var dimension: Int
    var values: [Float]

    func row(_ i: Int) -> [Float] { Array(values[i * dimension..<(i + 1) * dimension]) }
}

/// Vector files in the common formats: .fvecs / .ivecs (each row: int32 dimension, then that many
/// float32 / int32 values, little-endian) and .npy (version 1.0, 2.0 or 3.0 headers, C order, 2-D).
enum BenchFiles {
    /// Reads a whole file.
    static func readAll(_ path: String) throws(StrataError) -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw StrataError(.io, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        // Size hint from seeking (0 for /proc files), then read until end of file.
        var size = fseeko(f, 0, SEEK_END) == 0 ? max(0, Int(ftello(f))) : 0
        guard fseeko(f, 0, SEEK_SET) == 0 else { throw StrataError(.io, "cannot seek in \(path)") }
        var bytes = [UInt8](repeating: 0, count: max(size, 1 << 16))
        size = 0
        while true {
            if size == bytes.count { bytes.append(contentsOf: repeatElement(0, count: bytes.count)) }
            let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress! + size, 1, $0.count - size, f) }
            if got == 0 { break }
            size += got
        }
        guard ferror(f) == 0 else { throw StrataError(.io, "cannot read \(path): \(String(cString: strerror(errno)))") }
        bytes.removeLast(bytes.count - size)
        return bytes
    }

    /// Float vectors from .fvecs or .npy (float32).
    static func readFloats(_ path: String) throws(StrataError) -> FloatMatrix {
        if path.hasSuffix(".fvecs") {
            let (rows, dim, values) = try readVecs(path, as: Float.self)
            return FloatMatrix(rows: rows, dimension: dim, values: values)
        }
        if path.hasSuffix(".npy") {
            let (rows, dim, descr, bytes, offset) = try readNpyHeader(path)
            guard descr == "<f4" else {
                throw StrataError(.invalidArgument, "\(path): dtype \(descr) is not supported for vectors; expected float32 ('<f4')")
            }
            return FloatMatrix(rows: rows, dimension: dim, values: copyOut(bytes, offset: offset, count: rows * dim, as: Float.self))
        }
        throw StrataError(.invalidArgument, "\(path): unknown vector format; expected .fvecs or .npy")
    }

    /// Integer rows (ground-truth neighbour ids) from .ivecs or .npy (int32 or int64).
    static func readInts(_ path: String) throws(StrataError) -> (rows: Int, columns: Int, values: [Int]) {
        if path.hasSuffix(".ivecs") {
            let (rows, dim, values) = try readVecs(path, as: Int32.self)
            return (rows, dim, values.map { Int($0) })
        }
        if path.hasSuffix(".npy") {
            let (rows, dim, descr, bytes, offset) = try readNpyHeader(path)
            switch descr {
            case "<i4": return (rows, dim, copyOut(bytes, offset: offset, count: rows * dim, as: Int32.self).map { Int($0) })
            case "<i8": return (rows, dim, copyOut(bytes, offset: offset, count: rows * dim, as: Int64.self).map { Int($0) })
            default:
                throw StrataError(.invalidArgument, "\(path): dtype \(descr) is not supported for neighbour ids; expected '<i4' or '<i8'")
            }
        }
        throw StrataError(.invalidArgument, "\(path): unknown neighbour-id format; expected .ivecs or .npy")
    }

    /// Writes float rows as .fvecs.
    static func writeFvecs(_ path: String, _ m: FloatMatrix) throws(StrataError) {
        guard let f = fopen(path, "wb") else {
            throw StrataError(.io, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var ok = true
        var dim = Int32(m.dimension)
        m.values.withUnsafeBufferPointer { v in
            for i in 0..<m.rows {
                ok = ok && fwrite(&dim, 4, 1, f) == 1
                ok = ok && fwrite(v.baseAddress! + i * m.dimension, 4, m.dimension, f) == m.dimension
            }
        }
        ok = fclose(f) == 0 && ok
        guard ok else { throw StrataError(.io, "cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    private static func copyOut<T>(_ bytes: [UInt8], offset: Int, count: Int, as: T.Type) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buf, n in
            bytes.withUnsafeBytes { raw in
                _ = memcpy(buf.baseAddress!, raw.baseAddress! + offset, count * MemoryLayout<T>.size)
            }
            n = count
        }
    }

    private static func readVecs<T>(_ path: String, as: T.Type) throws(StrataError) -> (Int, Int, [T]) {
        let bytes = try readAll(path)
        guard bytes.count >= 4 else { throw StrataError(.invalidArgument, "\(path): empty or truncated vector file") }
        let dim = bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 0, as: Int32.self).littleEndian) }
        guard dim >= 1, dim <= 1 << 16 else { throw StrataError(.invalidArgument, "\(path): bad dimension \(dim) in the first row") }
        let rowBytes = 4 + dim * 4
        guard bytes.count % rowBytes == 0 else {
            throw StrataError(.invalidArgument, "\(path): size \(bytes.count) is not a whole number of rows of dimension \(dim)")
        }
        let rows = bytes.count / rowBytes
        var values = [T]()
        values.reserveCapacity(rows * dim)
        var bad = -1
        bytes.withUnsafeBytes { raw in
            values = [T](unsafeUninitializedCapacity: rows * dim) { buf, n in
                for r in 0..<rows {
                    let at = r * rowBytes
                    if Int(raw.loadUnaligned(fromByteOffset: at, as: Int32.self).littleEndian) != dim, bad < 0 { bad = r }
                    memcpy(buf.baseAddress! + r * dim, raw.baseAddress! + at + 4, dim * 4)
                }
                n = rows * dim
            }
        }
        guard bad < 0 else { throw StrataError(.invalidArgument, "\(path): row \(bad) has a different dimension than row 0 (\(dim))") }
        return (rows, dim, values)
    }

    /// Parses an .npy header: (rows, columns, descr, file bytes, data offset).
    private static func readNpyHeader(_ path: String) throws(StrataError) -> (Int, Int, String, [UInt8], Int) {
        let bytes = try readAll(path)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw StrataError(.invalidArgument, "\(path): not an .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int
        let start: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw StrataError(.invalidArgument, "\(path): truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        default:
            throw StrataError(.invalidArgument, "\(path): .npy format version \(major).\(bytes[7]) is not supported (1.0, 2.0 and 3.0 are)")
        }
        guard bytes.count >= start + headerLength else { throw StrataError(.invalidArgument, "\(path): truncated .npy header") }
        let header = String(decoding: bytes[start..<start + headerLength], as: UTF8.self)
        func field(_ key: String) -> Substring? {
            guard let r = header.firstRange(of: "'\(key)':") else { return nil }
            return header[r.upperBound...].drop(while: { $0 == " " })
        }
        guard let d = field("descr"), d.first == "'", let end = d.dropFirst().firstIndex(of: "'") else {
            throw StrataError(.invalidArgument, "\(path): .npy header has no descr: \(header)")
        }
        var descr = String(d[d.index(after: d.startIndex)..<end])
        if descr.hasPrefix("|") || descr.hasPrefix("=") { descr = "<" + descr.dropFirst() }
        if let f = field("fortran_order"), f.hasPrefix("True") {
            throw StrataError(.invalidArgument, "\(path): Fortran-order .npy arrays are not supported; save with C order")
        }
        guard let s = field("shape"), s.first == "(", let close = s.firstIndex(of: ")") else {
            throw StrataError(.invalidArgument, "\(path): .npy header has no shape: \(header)")
        }
        let dims = s[s.index(after: s.startIndex)..<close].split(separator: ",").compactMap {
            Int($0.trimmingPrefix(" ").split(separator: " ").first ?? "")
        }
        guard dims.count == 2, dims[0] >= 1, dims[1] >= 1 else {
            throw StrataError(.invalidArgument, "\(path): .npy shape \(s[...close]) is not a 2-D array of rows")
        }
        let width = descr.hasSuffix("8") ? 8 : 4
        let offset = start + headerLength
        guard bytes.count - offset >= dims[0] * dims[1] * width else {
            throw StrataError(.invalidArgument, "\(path): .npy data is shorter than its shape \(dims[0]) x \(dims[1])")
        }
        return (dims[0], dims[1], descr, bytes, offset)
    }
}

/// The bench data's generator: StrataCore's seeded SplitMix64, so generated data sets are reproducible.
typealias SplitMix64 = SeededRandom

extension SeededRandom {
    /// Rows of normalised Gaussian vectors.
    mutating func normalizedGaussian(rows: Int, dimension: Int) -> FloatMatrix {
        var values = [Float](repeating: 0, count: rows * dimension)
        for r in 0..<rows {
            var norm: Double = 0
            var j = 0
            while j < dimension {
                // Box-Muller: two normals per pair of uniforms.
                let radius = (-2 * log(uniform())).squareRoot()
                let angle = 2 * Double.pi * uniform()
                let a = radius * cos(angle), b = radius * sin(angle)
                values[r * dimension + j] = Float(a)
                norm += a * a
                if j + 1 < dimension {
                    values[r * dimension + j + 1] = Float(b)
                    norm += b * b
                }
                j += 2
            }
            let scale = Float(1 / norm.squareRoot())
            for j in 0..<dimension { values[r * dimension + j] *= scale }
        }
        return FloatMatrix(rows: rows, dimension: dimension, values: values)
    }
}
