import Foundation
import Liaison

extension SchemaDefinition {
    /// The schema of the fault suites: one table of rows written in batches, one batch per
    /// transaction. No natural key, so applying a large backlog stays linear.
    public static let faultItems = SchemaDefinition(
        name: "fault-items", version: 1,
        tables: [
            TableDefinition(
                "item",
                columns: [
                    ColumnDefinition("batch", required: true),
                    ColumnDefinition("n", .integer, required: true),
                    ColumnDefinition("size", .integer, required: true),
                    ColumnDefinition("payload"),
                ])
        ])
}

/// One batch: `size` rows inserted by one transaction of `site`, later updated or deleted whole,
/// each time by one transaction.
public struct FaultBatch: Sendable, Hashable {
    public var id: String
    public var site: String
    public var size: Int
    public var payload: String
    public var isDeleted = false

    public init(id: String, site: String, size: Int, payload: String) {
        self.id = id
        self.site = site
        self.size = size
        self.payload = payload
    }
}

/// What the fault suites have written, so that the end state of every replica can be checked
/// against it: nothing lost, nothing invented, nothing half applied.
public struct FaultLedger: Sendable {
    public private(set) var batches: [String: FaultBatch] = [:]
    /// Local transactions committed at each site, by site code.
    public private(set) var transactions: [String: Int] = [:]
    private var counters: [String: Int] = [:]

    public init() {}

    /// A new batch id of `site`.
    public mutating func newBatchID(site: String) -> String {
        counters[site, default: 0] += 1
        return "\(site)-b\(counters[site]!)"
    }

    public mutating func recordInsert(_ batch: FaultBatch) {
        batches[batch.id] = batch
        transactions[batch.site, default: 0] += 1
    }

    public mutating func recordUpdate(batch id: String, payload: String) {
        guard var batch = batches[id] else { return }
        batch.payload = payload
        batches[id] = batch
        transactions[batch.site, default: 0] += 1
    }

    public mutating func recordDelete(batch id: String) {
        guard var batch = batches[id] else { return }
        batch.isDeleted = true
        batches[id] = batch
        transactions[batch.site, default: 0] += 1
    }

    /// The batches of `site` still alive, sorted by id.
    public func liveBatches(of site: String) -> [FaultBatch] {
        batches.values.filter { $0.site == site && !$0.isDeleted }.sorted { $0.id < $1.id }
    }

    public var expectedRowCount: Int { batches.values.filter { !$0.isDeleted }.reduce(0) { $0 + $1.size } }

    /// Compares a converged dump with the ledger: every row of every live batch with its last
    /// payload, nothing else. Returns the problems and how many expected rows are missing.
    public func differences(from dump: String) -> (problems: [String], missingRows: Int) {
        guard let rows = FaultDump.rows(dump) else {
            return (["the dump is not JSON: \(dump.prefix(200))"], expectedRowCount)
        }
        var present: [String: FaultDump.Row] = [:]
        var problems: [String] = []
        for row in rows {
            if present[row.id] != nil { problems.append("row \(row.id) appears twice") }
            present[row.id] = row
        }
        var missing = 0
        var wrongPayloads = 0
        for batch in batches.values where !batch.isDeleted {
            for n in 1...batch.size {
                guard let row = present.removeValue(forKey: "\(batch.id)-\(n)") else {
                    missing += 1
                    continue
                }
                if row.payload != batch.payload { wrongPayloads += 1 }
            }
        }
        if missing > 0 { problems.append("\(missing) rows of live batches are missing (local edits lost)") }
        if wrongPayloads > 0 { problems.append("\(wrongPayloads) rows do not carry their batch's last payload") }
        if !present.isEmpty {
            problems.append(
                "\(present.count) rows exist that should not (deleted or never written), e.g. "
                    + present.keys.sorted().prefix(5).joined(separator: ", "))
        }
        return (problems, missing)
    }
}

/// Reading the `item` rows of a `liaison dump`.
public enum FaultDump {
    public struct Row: Sendable, Hashable {
        public var id: String
        public var batch: String
        public var n: Int
        public var size: Int
        public var payload: String?
    }

    /// The rows of table `item`, or `nil` when the text is not a dump.
    public static func rows(_ dump: String) -> [Row]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any],
            let items = object["item"] as? [[String: Any]]
        else { return nil }
        return items.map { item in
            Row(
                id: item["id"] as? String ?? "", batch: item["batch"] as? String ?? "",
                n: (item["n"] as? NSNumber)?.intValue ?? -1, size: (item["size"] as? NSNumber)?.intValue ?? -1,
                payload: item["payload"] as? String)
        }
    }

    /// Checks one replica's dump at any moment: each batch is all there or not at all, and all its
    /// rows carry the same payload (an update is one transaction too). Rows are never duplicated.
    public static func atomicityProblems(_ dump: String) -> [String] {
        guard let rows = rows(dump) else { return ["the dump is not JSON: \(dump.prefix(200))"] }
        var byBatch: [String: [Row]] = [:]
        var ids = Set<String>()
        var problems: [String] = []
        for row in rows {
            if !ids.insert(row.id).inserted { problems.append("row \(row.id) appears twice") }
            byBatch[row.batch, default: []].append(row)
        }
        for (batch, rows) in byBatch.sorted(by: { $0.key < $1.key }) {
            let size = rows[0].size
            if rows.count != size || Set(rows.map(\.n)).count != rows.count {
                problems.append("batch \(batch) is half applied: \(rows.count) of \(size) rows")
            }
            let payloads = Set(rows.map { $0.payload ?? "NULL" })
            if payloads.count > 1 {
                problems.append(
                    "batch \(batch) mixes payloads \(payloads.sorted().prefix(3)): an update was half applied")
            }
        }
        return problems
    }
}

/// Writes batches through the library, one transaction each, at SQLite speed.
public enum FaultWorkload {
    public static let author = "fault-tester"

    public static func insert(_ batch: FaultBatch, into replica: Replica) throws {
        try replica.write(author: author) { editor in
            for n in 1...batch.size {
                try editor.execute(
                    "INSERT INTO item(id, scope, owner, batch, n, size, payload) VALUES (?, 'public', ?, ?, ?, ?, ?)",
                    [
                        .text("\(batch.id)-\(n)"), .text(batch.site), .text(batch.id), .integer(Int64(n)),
                        .integer(Int64(batch.size)), .text(batch.payload),
                    ])
            }
        }
    }

    public static func update(batch: String, payload: String, in replica: Replica) throws {
        try replica.write(author: author) { editor in
            try editor.execute("UPDATE item SET payload = ? WHERE batch = ?", [.text(payload), .text(batch)])
        }
    }

    public static func delete(batch: String, in replica: Replica) throws {
        try replica.write(author: author) { editor in
            try editor.execute("DELETE FROM item WHERE batch = ?", [.text(batch)])
        }
    }

    /// SQL for the `sqlite3` shell that inserts `batch` in one transaction, as another SQLite
    /// client would (the capture triggers record it).
    public static func shellInsertSQL(_ batch: FaultBatch) -> String {
        """
        BEGIN;
        WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < \(batch.size))
        INSERT INTO item(id, scope, owner, batch, n, size, payload)
        SELECT '\(batch.id)-' || n, 'public', '\(batch.site)', '\(batch.id)', n, \(batch.size), '\(batch.payload)' FROM k;
        COMMIT;
        """
    }
}
