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

    /// Creates an empty file at `path` readable and writable by its owner only (0600), failing if
    /// one exists: SQLite then opens it, and gives its -wal and -shm files the same mode.
    static func createPrivately(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw LiaisonError(.storage, "cannot create '\(path)': \(String(cString: strerror(errno)))")
        }
        fchmod(fd, 0o600)
        close(fd)
    }

    /// Makes the replica at `path`, its -wal and -shm files readable by their owner only.
    static func makePrivate(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { chmod(path + suffix, 0o600) }
    }

    /// Whether the file system holding `path` is mounted read-only.
    static func isOnReadOnlyFileSystem(_ path: String) -> Bool {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return false }
        return info.f_flag & UInt(ST_RDONLY) != 0
    }
}
