import CStrata
import StrataCore

/// Library version; keep equal to STRATA_VERSION_STRING in version.h (a C test checks it).
let libraryVersion: StaticString = "0.1.0"

@implementation @c public func strata_abi_version() -> UInt32 {
    UInt32(STRATA_ABI_VERSION_MAJOR) << 16 | UInt32(STRATA_ABI_VERSION_MINOR)
}

@implementation @c public func strata_version() -> UnsafePointer<CChar>! {
    UnsafeRawPointer(libraryVersion.utf8Start).assumingMemoryBound(to: CChar.self)
}

@implementation @c public func strata_error_last() -> UnsafePointer<CChar>! {
    lastError.cString
}

@implementation @c public func strata_status_name(_ status: strata_status) -> UnsafePointer<CChar>! {
    let name: StaticString
    switch status {
    case 0: name = "STRATA_OK"
    case -1: name = "STRATA_ERR_INVALID_ARGUMENT"
    case -2: name = "STRATA_ERR_NOT_FOUND"
    case -3: name = "STRATA_ERR_INVALID_CONFIG"
    case -4: name = "STRATA_ERR_PLUGIN"
    case -5: name = "STRATA_ERR_ABI_MISMATCH"
    case -6: name = "STRATA_ERR_IO"
    case -7: name = "STRATA_ERR_DIMENSION"
    case -8: name = "STRATA_ERR_INVALID_VECTOR"
    case -9: name = "STRATA_ERR_INVALID_JSON"
    case -10: name = "STRATA_ERR_INVALID_UTF8"
    case -11: name = "STRATA_ERR_INVALID_FILTER"
    case -12: name = "STRATA_ERR_BACKEND"
    case -13: name = "STRATA_ERR_UNSUPPORTED"
    case -14: name = "STRATA_ERR_CONFLICT"
    case -15: name = "STRATA_ERR_INTERNAL"
    case -16: name = "STRATA_ERR_CORRUPT"
    default: name = "STRATA_ERR_UNKNOWN"
    }
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}

@implementation @c public func strata_string_free(_ string: UnsafeMutablePointer<CChar>?) {
    free(string)
}

#if canImport(Glibc)
import Glibc
#endif
