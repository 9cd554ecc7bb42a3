#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore

/// What a plugin file says of itself in its ELF note (plugin.h, `strata_plugin_note`), read
/// without loading it: loading a shared library runs its constructors, so a file is
/// identified first and loaded only when it is a Strata plugin for this ABI.
public struct PluginIdentity: Sendable, Equatable {
    /// The ABI version the plugin was built against, as the note gives it.
    public let abiVersion: UInt32

    /// The ELF machine of this process: a plugin for another machine cannot load anyway.
    static var hostMachine: UInt16 {
        #if arch(x86_64)
        62  // EM_X86_64
        #elseif arch(arm64)
        183  // EM_AARCH64
        #else
        0
        #endif
    }

    /// Reads the note of the file at `path`.
    /// - Throws: `.io` when the file cannot be read; `.plugin` naming the file when it is not a
    ///   64-bit little-endian ELF shared object for this machine or carries no Strata note;
    ///   `.abiMismatch` naming both versions when the note's ABI cannot load here.
    public static func read(path: String) throws(StrataError) -> PluginIdentity {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StrataError(.io, "cannot read plugin file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StrataError(.io, "cannot read plugin file \(path): \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        let identity = try parse(size: size, what: "plugin file \(path)") { offset, count in
            var bytes = [UInt8](repeating: 0, count: count)
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return n == count ? bytes : nil
        }
        try identity.checkCompatible(what: "plugin file \(path)")
        return identity
    }

    /// Throws `.abiMismatch` unless a host of this ABI may load the plugin.
    func checkCompatible(what: String) throws(StrataError) {
        guard PluginABI.isCompatible(abiVersion) else {
            throw StrataError(.abiMismatch, "\(what) was built for Strata ABI \(PluginABI.describe(abiVersion)), this library has ABI \(PluginABI.describe(PluginABI.hostVersion)) (a plugin needs the same major and a minor no newer); it was not loaded")
        }
    }

    /// Finds the note in an ELF image of `size` bytes read through `read(offset, count)`
    /// (nil when the range is not in the file). Every offset and count is checked against
    /// `size` before it is read, so a damaged or hostile file gives an error, never a crash.
    public static func parse(size: Int, what: String, read: (Int, Int) -> [UInt8]?) throws(StrataError) -> PluginIdentity {
        func refuse(_ why: String) -> StrataError { StrataError(.plugin, "\(what) \(why); it was not loaded") }
        func fetch(_ offset: Int, _ count: Int) throws(StrataError) -> [UInt8] {
            guard offset >= 0, count >= 0, offset <= size, count <= size - offset, let bytes = read(offset, count), bytes.count == count else {
                throw refuse("is not a valid ELF file (a table at offset \(offset) runs past its end)")
            }
            return bytes
        }
        guard size >= 64 else { throw refuse("is not an ELF shared object (\(size) bytes)") }
        let header = try fetch(0, 64)
        guard header[0] == 0x7F, header[1] == 0x45, header[2] == 0x4C, header[3] == 0x46 else {
            throw refuse("is not an ELF shared object")
        }
        guard header[4] == 2, header[5] == 1 else { throw refuse("is not a 64-bit little-endian ELF file") }
        guard u16(header, 16) == 3 else { throw refuse("is not a shared object (ELF type \(u16(header, 16)))") }
        guard u16(header, 18) == hostMachine else { throw refuse("is built for another machine (ELF machine \(u16(header, 18)))") }

        var regions: [(offset: Int, size: Int, align: Int)] = []
        // Program headers: PT_NOTE segments (present even when section headers are stripped).
        let phoff = u64(header, 32), phentsize = Int(u16(header, 54)), phnum = Int(u16(header, 56))
        if phnum > 0 {
            guard phentsize >= 56, phoff <= UInt64(size) else { throw refuse("has a malformed program header table") }
            let table = try fetch(Int(phoff), phentsize * phnum)
            for i in 0..<phnum where u32(table, i * phentsize) == 4 {
                let base = i * phentsize
                let (offset, length, align) = (u64(table, base + 8), u64(table, base + 32), u64(table, base + 48))
                guard offset <= UInt64(size), length <= UInt64(size) else { throw refuse("has a note segment outside the file") }
                regions.append((Int(offset), Int(length), align == 8 ? 8 : 4))
            }
        }
        // Section headers: SHT_NOTE sections, for an image whose notes are not in a segment.
        let shoff = u64(header, 40), shentsize = Int(u16(header, 58)), shnum = Int(u16(header, 60))
        if shnum > 0, shoff > 0 {
            guard shentsize >= 64, shoff <= UInt64(size) else { throw refuse("has a malformed section header table") }
            let table = try fetch(Int(shoff), shentsize * shnum)
            for i in 0..<shnum where u32(table, i * shentsize + 4) == 7 {
                let base = i * shentsize
                let (offset, length, align) = (u64(table, base + 24), u64(table, base + 32), u64(table, base + 48))
                guard offset <= UInt64(size), length <= UInt64(size) else { throw refuse("has a note section outside the file") }
                regions.append((Int(offset), Int(length), align == 8 ? 8 : 4))
            }
        }
        for region in regions where region.size > 0 && region.size <= 1 << 20 {
            let bytes = try fetch(region.offset, region.size)
            if let abi = try findNote(bytes, align: region.align, refuse: refuse) { return PluginIdentity(abiVersion: abi) }
        }
        throw refuse("carries no Strata plugin note (\(STRATA_PLUGIN_NOTE_SECTION)): it is not a Strata plugin, or it was built against headers older than ABI 1.4 (rebuild it; a C plugin declares STRATA_PLUGIN_NOTE once)")
    }

    /// The ABI version in the first note owned by "Strata" of our type, or nil.
    private static func findNote(_ b: [UInt8], align: Int, refuse: (String) -> StrataError) throws(StrataError) -> UInt32? {
        func padded(_ n: Int) -> Int { (n + align - 1) / align * align }
        var at = 0
        while b.count - at >= 12 {
            let namesz = Int(u32(b, at)), descsz = Int(u32(b, at + 4)), type = u32(b, at + 8)
            guard namesz <= b.count, descsz <= b.count else { return nil }
            let nameStart = at + 12, descStart = nameStart + padded(namesz)
            guard descStart <= b.count, descsz <= b.count - descStart else { return nil }
            if namesz == 7, type == STRATA_PLUGIN_NOTE_TYPE, Array(b[nameStart..<(nameStart + 7)]) == Array("Strata\0".utf8) {
                guard descsz >= 8 else { throw refuse("has a Strata note of \(descsz) bytes, expected 8") }
                return u32(b, descStart)
            }
            at = descStart + padded(descsz)
        }
        return nil
    }

    private static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    private static func u32(_ b: [UInt8], _ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[i + $1]) << (8 * $1) } }
    private static func u64(_ b: [UInt8], _ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[i + $1]) << (8 * $1) } }
}
