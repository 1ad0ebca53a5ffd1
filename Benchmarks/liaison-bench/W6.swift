import CSQLite
import Foundation
import Liaison

/// W6 (edit-to-peer latency): two `liaison serve` processes serving each other on 127.0.0.1,
/// `--live` or with the periodic round only (`--sync-every 5s`). This process makes `edits`
/// one-row transactions at A, 20 ms apart, and watches B's file: for each edit, the time from A's
/// commit until B's table holds it.
enum W6 {
    static func run(directory: String, liaison: String, edits: Int) async throws -> [String: Double] {
        var result: [String: Double] = ["edits": Double(edits)]
        for (mode, arguments) in [("live", ["--live", "--sync-every", "30s"]), ("periodic", ["--sync-every", "5s"])] {
            let folder = directory + "/" + mode
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let latencies = try await measure(folder: folder, liaison: liaison, arguments: arguments, edits: edits)
            let arrived = latencies.compactMap { $0 }
            for (name, p) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)] {
                result["w6_\(mode)_\(name)_ms"] = percentile(arrived, p) * 1000
            }
            result["w6_\(mode)_missing"] = Double(latencies.count - arrived.count)
        }
        return result
    }

    /// Each edit's latency in seconds (`nil`: it never arrived).
    static func measure(folder: String, liaison: String, arguments: [String], edits: Int) async throws -> [Double?] {
        let pathA = folder + "/a.db"
        let pathB = folder + "/b.db"
        let a = try Replica.create(at: pathA, site: SiteCode("NL-A")!, schema: Workload.schema)
        let b = try Replica.create(at: pathB, site: SiteCode("MA-B")!, schema: Workload.schema)
        let (portA, portB) = (try freePort(), try freePort())
        let token = "w6-shared-token"
        try a.addPeer(
            name: "MA-B", url: "http://127.0.0.1:\(portB)", token: token, siteID: b.siteID, read: ["*"], write: ["*"],
            publicKey: b.publicKey)
        try b.addPeer(
            name: "NL-A", url: "http://127.0.0.1:\(portA)", token: token, siteID: a.siteID, read: ["*"], write: ["*"],
            publicKey: a.publicKey)
        let serverA = try ServerProcess(
            liaison: liaison, database: pathA, arguments: ["--port", "\(portA)"] + arguments)
        defer { serverA.stop() }
        let serverB = try ServerProcess(
            liaison: liaison, database: pathB, arguments: ["--port", "\(portB)"] + arguments)
        defer { serverB.stop() }
        let watcher = ArrivalWatcher(path: pathB)
        // SQL, as an application writes (the engine's `set` checks the cooperation schema's references).
        let insert = "INSERT INTO organisation(id, name) VALUES (?, ?)"
        // A warm-up edit: both servers follow each other once it has arrived.
        try a.write(author: "bench") { try $0.execute(insert, [.text("w6-warm-up"), .text("warm-up")]) }
        guard watcher.wait(forRows: 1, timeout: 60) else {
            throw LiaisonError(.peer, "W6: the warm-up edit did not reach B in 60 s")
        }
        watcher.start(baseline: 1)
        let start = DispatchTime.now().uptimeNanoseconds
        var committed: [UInt64] = []
        for index in 0..<edits {
            let due = start + UInt64(index) * 20_000_000
            let now = DispatchTime.now().uptimeNanoseconds
            if due > now { try await Task.sleep(nanoseconds: due - now) }
            try a.write(author: "bench") {
                try $0.execute(insert, [.text(String(format: "w6-%05d", index)), .text("Edit \(index)")])
            }
            committed.append(DispatchTime.now().uptimeNanoseconds)
        }
        _ = watcher.wait(forRows: edits + 1, timeout: 20)
        let arrivals = watcher.stop()
        return committed.enumerated().map { index, time in
            index < arrivals.count ? Double(arrivals[index] > time ? arrivals[index] - time : 0) / 1e9 : nil
        }
    }

    /// A free TCP port on 127.0.0.1 (bound, read and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw LiaisonError(.peer, "W6: no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Watches B's file on a thread of its own, every millisecond: the edits arrive in order (each is
/// one transaction, pulled in A's order), so the row count tells which have arrived.
final class ArrivalWatcher: @unchecked Sendable {
    private let path: String
    private let lock = NSLock()
    private var arrivals: [UInt64] = []
    private var baseline = 0
    private var running = false
    private var thread: Thread?

    init(path: String) { self.path = path }

    /// Polls until B holds `rows` rows (before `start`); whether it did within `timeout` seconds.
    func wait(forRows rows: Int, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if lock.withLock({ running ? baseline + arrivals.count : -1 }) >= rows { return true }
            if !running, count() >= rows { return true }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return false
    }

    func start(baseline: Int) {
        lock.withLock {
            self.baseline = baseline
            running = true
        }
        let thread = Thread { [self] in
            let plain = PlainSQLite(path: path)
            let select = plain.prepare("SELECT count(*) FROM organisation")
            defer { sqlite3_finalize(select) }
            while lock.withLock({ running }) {
                sqlite3_reset(select)
                let count = sqlite3_step(select) == SQLITE_ROW ? Int(sqlite3_column_int64(select, 0)) : 0
                let now = DispatchTime.now().uptimeNanoseconds
                lock.withLock {
                    while baseline + arrivals.count < count { arrivals.append(now) }
                }
                usleep(1_000)
            }
        }
        self.thread = thread
        thread.start()
    }

    /// Stops watching; the arrival time of each edit that arrived, in order.
    func stop() -> [UInt64] {
        lock.withLock {
            running = false
            return arrivals
        }
    }

    private func count() -> Int {
        let plain = PlainSQLite(path: path)
        let select = plain.prepare("SELECT count(*) FROM organisation")
        defer { sqlite3_finalize(select) }
        return sqlite3_step(select) == SQLITE_ROW ? Int(sqlite3_column_int64(select, 0)) : 0
    }
}
