import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small file systems for disk-full and read-only tests: a tmpfs mounted for the test and
/// unmounted afterwards. Needs root (or CAP_SYS_ADMIN); the helpers report when it is missing.
public enum FaultMount {
    /// Whether this process may mount file systems at all.
    public static var mayMount: Bool { geteuid() == 0 && FaultTools.executable(named: "mount") != nil }

    /// Runs `body` with a fresh tmpfs of `kilobytes` mounted under `parent`, unmounted afterwards
    /// even when `body` throws. Returns `nil` without running `body` when mounting fails.
    public static func withTmpfs<T>(
        under parent: URL, kilobytes: Int, _ body: (URL) async throws -> T
    ) async throws -> T? {
        guard mayMount, let mount = FaultTools.executable(named: "mount") else { return nil }
        let directory = parent.appendingPathComponent("tmpfs-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let mounted = try await FaultTools.run(
            mount, ["-t", "tmpfs", "-o", "size=\(kilobytes)k,mode=0755", "tmpfs", directory.path], in: parent,
            timeout: .seconds(30))
        guard mounted.signal == nil, mounted.status == 0 else { return nil }
        do {
            let result = try await body(directory)
            await unmount(directory)
            return result
        } catch {
            await unmount(directory)
            throw error
        }
    }

    /// Remounts a tmpfs read-only or read-write.
    @discardableResult
    public static func remount(_ directory: URL, readOnly: Bool) async throws -> Bool {
        guard let mount = FaultTools.executable(named: "mount") else { return false }
        let outcome = try await FaultTools.run(
            mount, ["-o", "remount,\(readOnly ? "ro" : "rw")", directory.path],
            in: directory.deletingLastPathComponent(),
            timeout: .seconds(30))
        return outcome.signal == nil && outcome.status == 0
    }

    /// Unmounts (lazily when busy) and removes the mount point.
    public static func unmount(_ directory: URL) async {
        guard let umount = FaultTools.executable(named: "umount") else { return }
        let parent = directory.deletingLastPathComponent()
        let plain = try? await FaultTools.run(umount, [directory.path], in: parent, timeout: .seconds(30))
        if plain?.status != 0 {
            _ = try? await FaultTools.run(umount, ["-l", directory.path], in: parent, timeout: .seconds(30))
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Bytes still free on the file system holding `directory`.
    public static func freeBytes(_ directory: URL) -> Int {
        var info = statvfs()
        guard statvfs(directory.path, &info) == 0 else { return 0 }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    /// Fills the file system of `directory` with a file until about `leaving` bytes are free.
    /// Returns the filler's URL (remove it to free the space).
    @discardableResult
    public static func fill(_ directory: URL, leaving: Int) throws -> URL {
        let filler = directory.appendingPathComponent("filler-\(UUID().uuidString.prefix(6))")
        _ = FileManager.default.createFile(atPath: filler.path, contents: nil)
        let handle = try FileHandle(forWritingTo: filler)
        defer { try? handle.close() }
        let chunk = Data(repeating: 0x5a, count: 4_096)
        for _ in 0..<1_000_000 {
            let free = freeBytes(directory)
            if free <= leaving { break }
            let size = min(chunk.count, free - leaving)
            do {
                try handle.write(contentsOf: chunk.prefix(size))
            } catch {
                break
            }
        }
        return filler
    }
}
