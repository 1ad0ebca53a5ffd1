import Foundation
import Liaison

/// W1 (local write overhead) and its W4 floor, in one process.
enum W1 {
    static func run(directory: String, rowCount: Int) throws -> [String: Double] {
        let rows = Workload.rows(rowCount)
        let updates = min(10_000, rowCount)
        var result: [String: Double] = [:]

        // W4a: plain SQLite, one transaction, one prepared INSERT.
        let plainPath = directory + "/plain.db"
        let plain = PlainSQLite(path: plainPath)
        plain.exec(Workload.createPlainSQL)
        let insert = plain.prepare(Workload.insertSQL)
        result["w4a_seconds"] = measure {
            plain.exec("BEGIN")
            for row in rows { plain.run(insert, row) }
            plain.exec("COMMIT")
        }
        result["w4a_bytes"] = Double(plain.checkpointedSize(path: plainPath))
        // The apply floor: the same rows upserted into a second plain file, one transaction.
        let floor = PlainSQLite(path: directory + "/floor.db")
        floor.exec(Workload.createPlainSQL)
        let upsert = floor.prepare(Workload.upsertSQL)
        result["w4_upsert_rows_seconds"] = measure {
            floor.exec("BEGIN")
            for row in rows { floor.run(upsert, row) }
            floor.exec("COMMIT")
        }

        // W1a: the same through a Liaison replica, capture on.
        let replicaPath = directory + "/liaison.db"
        let replica = try Replica.create(at: replicaPath, site: SiteCode("BENCH-A")!, schema: Workload.schema)
        let values = rows.map { row in row.map { CellValue.text($0) } + [.text("public"), .text("BENCH-A")] }
        let sql =
            "INSERT INTO organisation(id, name, kind, country, updated_at, email, phone, address, city, postcode, notes, scope, owner) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        result["w1a_seconds"] = try measure {
            try replica.write(author: "bench") { editor in
                for row in values { try editor.execute(sql, row) }
            }
        }
        // Publishing (values, versions) happens when a sync or the log first asks: measured apart.
        var publishCPU = 0.0
        result["publish_seconds"] = try measure { publishCPU = try measureCPU { _ = try replica.versionVector() } }
        result["publish_cpu_seconds"] = publishCPU
        let check = PlainSQLite(path: replicaPath)
        result["w1a_bytes"] = Double(check.checkpointedSize(path: replicaPath))
        // What takes the space: the synced table with its indexes, the change log, the versions.
        let byTable = check.bytesByTable()
        for (key, table) in [
            ("w1a_bytes_table", "organisation"), ("w1a_bytes_change", "_liaison_change"),
            ("w1a_bytes_version", "_liaison_version"), ("w1a_bytes_journal", "_liaison_journal"),
        ] {
            if let bytes = byTable[table] { result[key] = bytes }
        }

        // W4b: 10,000 separate UPDATE transactions on plain SQLite.
        let update = plain.prepare(Workload.updateSQL)
        var plainLatencies: [Double] = []
        let plainCPU = processCPUSeconds()
        result["w4b_seconds"] = measure {
            for index in 0..<updates {
                plainLatencies.append(
                    measure {
                        plain.exec("BEGIN")
                        plain.run(update, ["Renamed \(index)", "2026-11-29T12:00:00Z", rows[index][0]])
                        plain.exec("COMMIT")
                    })
            }
        }
        result["w4b_cpu_seconds"] = processCPUSeconds() - plainCPU
        // The apply floor of W2b: the updated rows upserted whole into the second file, one transaction.
        result["w4_upsert_updates_seconds"] = measure {
            floor.exec("BEGIN")
            for index in 0..<updates {
                var row = rows[index]
                row[1] = "Renamed \(index)"
                row[4] = "2026-11-29T12:00:00Z"
                floor.run(upsert, row)
            }
            floor.exec("COMMIT")
        }
        // W1b: the same through the replica.
        var latencies: [Double] = []
        let replicaCPU = processCPUSeconds()
        result["w1b_seconds"] = try measure {
            for index in 0..<updates {
                latencies.append(
                    try measure {
                        try replica.write(author: "bench") { editor in
                            try editor.execute(
                                Workload.updateSQL,
                                [.text("Renamed \(index)"), "2026-11-29T12:00:00Z", .text(rows[index][0])])
                        }
                    })
            }
        }
        result["w1b_cpu_seconds"] = processCPUSeconds() - replicaCPU
        // Publishing W1b's one-row update transactions (what W2b's server does before serving them).
        var publishUpdatesCPU = 0.0
        result["publish_updates_seconds"] = try measure {
            publishUpdatesCPU = try measureCPU { _ = try replica.versionVector() }
        }
        result["publish_updates_cpu_seconds"] = publishUpdatesCPU
        // W1b again once the replica keeps divergence digests, as every replica does after its first
        // sync (`scopeDigests` installs and hashes them): what a local write costs in real use.
        _ = try replica.scopeDigests()
        let syncedCPU = processCPUSeconds()
        result["w1b_synced_seconds"] = try measure {
            for index in 0..<updates {
                try replica.write(author: "bench") { editor in
                    try editor.execute(
                        Workload.updateSQL,
                        [.text("Renamed again \(index)"), "2026-11-30T12:00:00Z", .text(rows[index][0])])
                }
            }
        }
        result["w1b_synced_cpu_seconds"] = processCPUSeconds() - syncedCPU
        result["w1b_p50_us"] = percentile(latencies, 0.5) * 1e6
        result["w1b_p99_us"] = percentile(latencies, 0.99) * 1e6
        result["w4b_p50_us"] = percentile(plainLatencies, 0.5) * 1e6
        result["w4b_p99_us"] = percentile(plainLatencies, 0.99) * 1e6
        result["rows"] = Double(rowCount)
        result["updates"] = Double(updates)
        return result
    }
}
