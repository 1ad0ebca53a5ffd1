import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Issue 6: full disks and read-only files.

// MARK: - 5. Disk full and read-only files

@Suite(.timeLimit(.minutes(10))) struct StorageFaultTests {
    static let suite = "StorageFaultTests"
    static let tests = 3

    @Test func aWriteThatCannotCommitOnAFullDiskFailsClearlyAndLosesNothing() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { outer in
                let ran = try await FaultMount.withTmpfs(under: outer.directory, kilobytes: 2_048) { mount in
                    let cli = FaultCLI(binary: outer.binary, directory: mount)
                    _ = try await cli.output(["init", "r.db", "--site", "NL-NCTV", "--sample"])
                    _ = try await cli.output(["set", "r.db", "topic", "topic-before", "name=Before the disk filled"])
                    let before = try await cli.dump("r.db") + (try await cli.output(["log", "r.db", "--json"]))
                    let filler = try FaultMount.fill(mount, leaving: 64 * 1_024)
                    let big = String(repeating: "x", count: 120_000)
                    let refused = try await cli.run([
                        "set", "r.db", "topic", "topic-big", "name=Big", "description=\(big)",
                    ])
                    tally.faults += 1
                    #expect(refused.signal == nil && refused.status == 1, "\(refused)")
                    #expect(refused.errorLines.count == 1 && refused.stderr.hasPrefix("liaison: "), "\(refused)")
                    #expect(refused.stderr.contains("full"), "the message does not say the disk is full: \(refused)")

                    // In the library too: a large transaction fails whole.
                    let replica = try Replica.open(at: cli.path("r.db"))
                    let error = try #require(throws: LiaisonError.self) {
                        try replica.write(author: "fault-tester") { editor in
                            for n in 0..<5_000 {
                                try editor.execute(
                                    "INSERT INTO topic(id, name, scope, owner) VALUES (?, ?, 'public', 'NL-NCTV')",
                                    [
                                        .text("topic-bulk-\(n)"),
                                        .text("Bulk \(n) " + String(repeating: "y", count: 100)),
                                    ])
                            }
                        }
                    }
                    tally.faults += 1
                    #expect(error.code == .storage && error.message.contains("full"), "\(error)")
                    #expect(
                        try replica.rows("topic").filter { ($0["id"]?.displayText ?? "").hasPrefix("topic-bulk-") }
                            .isEmpty)

                    try FileManager.default.removeItem(at: filler)
                    #expect(try await cli.dump("r.db") + (try await cli.output(["log", "r.db", "--json"])) == before)
                    let integrity = try await cli.sqlite("r.db", "PRAGMA integrity_check;")
                    #expect(integrity.stdout == "ok\n", "\(integrity)")
                    _ = try await cli.output(["set", "r.db", "topic", "topic-big", "name=Big", "description=\(big)"])
                    return true
                }
                if ran == nil {
                    print("StorageFaultTests: cannot mount a tmpfs here (needs root); disk-full test skipped")
                }
            }
        }
    }

    @Test func aSyncIntoAFullDiskStopsCleanlyAndResumesWhenThereIsRoom() async throws {
        let scale = FaultScale.current
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { cli in
                var ledger = FaultLedger()
                var rng = SeededGenerator(seed: scale.seed &+ 7)
                let hub = try Replica.create(at: cli.path("hub.db"), site: SiteCode("NL-NCTV")!, schema: .faultItems)
                var written = 0
                while written < 4_000 {
                    let size = written == 0 ? 1_500 : rng.int(1...200)
                    let batch = FaultBatch(
                        id: ledger.newBatchID(site: "NL-NCTV"), site: "NL-NCTV", size: size, payload: "v0")
                    try FaultWorkload.insert(batch, into: hub)
                    ledger.recordInsert(batch)
                    written += size
                }
                _ = try await cli.output([
                    "peer", "add", "hub.db", "MA-DGST", "http://127.0.0.1:1", "--token", faultToken,
                ])
                let ran = try await FaultMount.withTmpfs(under: cli.directory, kilobytes: 16_384) { mount in
                    let spoke = mount.appendingPathComponent("spoke.db").path
                    _ = try Replica.create(at: spoke, site: SiteCode("MA-DGST")!, schema: .faultItems)
                    try await cli.trustEachOther(["hub.db", spoke])
                    return try await withFaultServer(cli, "hub.db") { server in
                        _ = try await cli.output(["peer", "add", spoke, "NL-NCTV", server.url, "--token", faultToken])
                        let filler = try FaultMount.fill(mount, leaving: 400 * 1_024)
                        let stopped = try await cli.run(["sync", spoke, "--page-changes", "200"])
                        tally.faults += 1
                        #expect(stopped.signal == nil && stopped.status == 1, "\(stopped)")
                        #expect(stopped.stderr.contains("full"), "the error does not say the disk is full: \(stopped)")
                        #expect(FaultDump.atomicityProblems(try await cli.dump(spoke)).isEmpty)
                        try FileManager.default.removeItem(at: filler)
                        let resumed = try await cli.run(["sync", spoke, "--page-changes", "200"])
                        #expect(resumed.status == 0, "\(resumed)")
                        let dump = try await cli.dump(spoke)
                        #expect(dump == (try await cli.dump("hub.db")))
                        let (problems, missing) = ledger.differences(from: dump)
                        #expect(problems.isEmpty, "\(problems)")
                        tally.rowsLost = missing
                        return true
                    }
                }
                if ran == nil {
                    print("StorageFaultTests: cannot mount a tmpfs here (needs root); full-disk sync test skipped")
                }
            }
        }
    }

    @Test func aReadOnlyReplicaRefusesWritesClearlyAndKeepsItsData() async throws {
        try await withTally(Self.suite, tests: Self.tests) { tally in
            try await withFaultCLI { cli in
                // 1. The file is read-only (chmod 0444) for a user who is not root.
                let folder = cli.directory.appendingPathComponent("ro")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let db = folder.appendingPathComponent("r.db").path
                _ = try await cli.output(["init", db, "--site", "NL-NCTV", "--sample"])
                _ = try await cli.output(["set", db, "topic", "topic-before", "name=Before"])
                _ = try await cli.output(["status", db])
                let before = try await cli.dump(db)
                let unprivileged = try FaultUnprivileged(
                    owning: [folder.path]
                        + [db, db + ".keys", db + "-wal", db + "-shm"].filter {
                            FileManager.default.fileExists(atPath: $0)
                        })
                try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: db)
                let refused = try await unprivileged.run(cli, ["set", db, "topic", "topic-after", "name=After"])
                tally.faults += 1
                #expect(refused.signal == nil && refused.status == 1, "\(refused)")
                #expect(refused.errorLines.count == 1 && refused.stderr.contains("read-only"), "\(refused)")
                let read = try await unprivileged.run(cli, ["dump", db])
                #expect(read.status == 0 && read.stdout == before, "\(read)")

                // 2. The directory too, without even search permission (chmod 0444).
                try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: folder.path)
                let locked = try await unprivileged.run(cli, ["set", db, "topic", "topic-after", "name=After"])
                tally.faults += 1
                #expect(locked.signal == nil && locked.status != 0, "\(locked)")
                // Not reported as missing (which would invite a new replica), but as unreachable.
                #expect(locked.status == 1 && !locked.stderr.contains("create one"), "\(locked)")
                #expect(locked.stderr.contains("permission"), "\(locked)")
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: db)
                #expect(try await cli.dump(db) == before)

                // 3. A read-only file system.
                let mounted = try await FaultMount.withTmpfs(under: cli.directory, kilobytes: 2_048) { mount in
                    let path = mount.appendingPathComponent("r.db").path
                    _ = try await cli.output(["init", path, "--site", "NL-NCTV", "--sample"])
                    _ = try await cli.output(["status", path])
                    let snapshot = try await cli.dump(path)
                    guard try await FaultMount.remount(mount, readOnly: true) else { return false }
                    let write = try await cli.run(["set", path, "topic", "topic-after", "name=After"])
                    let dump = try await cli.run(["dump", path])
                    tally.faults += 1
                    #expect(write.signal == nil && write.status == 1, "\(write)")
                    // Read as an immutable file: reads work, writes are refused in one clear line.
                    #expect(write.stderr.contains("read-only") && !write.stderr.contains("SQL:"), "\(write)")
                    #expect(dump.status == 0 && dump.stdout == snapshot, "\(dump)")
                    try await FaultMount.remount(mount, readOnly: false)
                    #expect(try await cli.dump(path) == snapshot)
                    return true
                }
                if mounted == nil {
                    print("StorageFaultTests: cannot mount a tmpfs here (needs root); read-only file system skipped")
                }
            }
        }
    }
}
