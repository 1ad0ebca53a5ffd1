import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Questions about a replica's file that `FileManager` answers too vaguely.
enum FileProbe {
    /// Whether something exists at `path`.
    ///
    /// - Throws: `LiaisonError` `.storage` when the answer is unknowable — typically a folder on the
    ///   way that this user may not search — rather than reporting a replica there as missing.
    static func exists(_ path: String) throws -> Bool {
        var info = stat()
        if stat(path, &info) == 0 { return true }
        let code = errno
        if code == ENOENT || code == ENOTDIR { return false }
        throw LiaisonError(
            .storage,
            "cannot look at '\(path)': \(String(cString: strerror(code))); check the permissions of the file and of "
                + "every folder above it")
    }

    /// Whether the file system holding `path` is mounted read-only.
    static func isOnReadOnlyFileSystem(_ path: String) -> Bool {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return false }
        return info.f_flag & UInt(ST_RDONLY) != 0
    }
}
