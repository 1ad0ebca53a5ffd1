import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The secrets of one replica: its signing key and the tokens it shares with its peers. They live
/// in `<replica>.keys` beside the SQLite file (mode 0600), never inside it: a replica file is data,
/// and may be copied, backed up or handed to a colleague without handing over the agency's identity.
struct KeyFile: Codable, Sendable, Equatable {
    var format = 1
    /// The site the key belongs to: a key file is only used with its own replica.
    var siteID: String
    /// The Ed25519 private key, raw and base64.
    var privateKey: String
    /// Peer name → the token shared with it.
    var tokens: [String: String] = [:]

    /// Where the key file of the replica at `path` lives.
    static func path(forReplica path: String) -> String { path + ".keys" }

    /// The key file at `path`; `nil` when there is none.
    static func read(at path: String) throws -> KeyFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw LiaisonError(.storage, "cannot read the key file '\(path)': \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(KeyFile.self, from: data)
        } catch {
            throw LiaisonError(
                .storage, "the key file '\(path)' is damaged; restore it from a backup or 'liaison export-key'")
        }
    }

    /// Writes the file whole and atomically (a temporary file, flushed, renamed over), mode 0600.
    /// With `exclusive`, refuses to replace an existing file.
    func write(to path: String, exclusive: Bool = false) throws {
        if exclusive, FileManager.default.fileExists(atPath: path) {
            throw LiaisonError(.invalidInput, "'\(path)' exists already; it holds a replica's keys: move it away first")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try encoder.encode(self)
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw LiaisonError(.storage, "cannot write the key file '\(path)': \(String(cString: strerror(errno)))")
        }
        fchmod(fd, 0o600)
        let written = data.withUnsafeBytes { writeBytes(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw LiaisonError(.storage, "cannot write the key file '\(path)': \(reason)")
        }
        let parent = (path as NSString).deletingLastPathComponent
        let directory = open(parent.isEmpty ? "." : parent, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }
}

private func writeBytes(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(fd, bytes, count)
    #else
        Darwin.write(fd, bytes, count)
    #endif
}

/// The key file of an open replica, re-read when another process (`liaison peer add` beside a
/// running `serve`) has changed it.
final class KeyStore: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    private var cached: KeyFile?
    private var stamp: (Int, Int, Int)?

    init(path: String, file: KeyFile?) {
        self.path = path
        self.cached = file
        self.stamp = Self.stamp(of: path)
    }

    private static func stamp(of path: String) -> (Int, Int, Int)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (
            Int(info.st_ino), Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec), Int(info.st_size)
        )
    }

    /// The file as it is now.
    func current() -> KeyFile? {
        lock.withLock {
            let now = Self.stamp(of: path)
            if now.map({ [$0.0, $0.1, $0.2] }) != stamp.map({ [$0.0, $0.1, $0.2] }) {
                if let reread = try? KeyFile.read(at: path) { cached = reread }
                stamp = now
            }
            return cached
        }
    }

    /// Changes the file (the caller holds the replica's write lock, so processes take turns).
    /// Sets the private key, writing a new key file (no tokens) when the old one is lost.
    func replacePrivateKey(with privateKey: String, siteID: String) throws {
        if (try? KeyFile.read(at: path)) ?? cached != nil {
            try update { $0.privateKey = privateKey }
            return
        }
        try lock.withLock {
            let file = KeyFile(siteID: siteID, privateKey: privateKey)
            try file.write(to: path, exclusive: true)
            cached = file
            stamp = Self.stamp(of: path)
        }
    }

    func update(_ change: (inout KeyFile) -> Void) throws {
        try lock.withLock {
            guard var file = (try KeyFile.read(at: path)) ?? cached else {
                throw LiaisonError(
                    .storage, "this replica has no key file ('\(path)'); bring it with 'liaison import-key'")
            }
            change(&file)
            try file.write(to: path)
            cached = file
            stamp = Self.stamp(of: path)
        }
    }
}
