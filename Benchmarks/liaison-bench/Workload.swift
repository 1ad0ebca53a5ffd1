import Foundation
import Liaison

/// The W-series data set: 100,000 organisation rows of about 300 bytes of text, from a fixed seed.
struct Workload {
    static let columns = [
        "name", "kind", "country", "updated_at", "email", "phone", "address", "city", "postcode", "notes",
    ]

    static let schema = SchemaDefinition(
        name: "bench", version: 1,
        tables: [TableDefinition("organisation", columns: columns.map { ColumnDefinition($0) })])

    static let createPlainSQL = """
        CREATE TABLE organisation(
          id TEXT PRIMARY KEY NOT NULL, name TEXT, kind TEXT, country TEXT, updated_at TEXT,
          email TEXT, phone TEXT, address TEXT, city TEXT, postcode TEXT, notes TEXT);
        """

    static let insertSQL =
        "INSERT INTO organisation(id, name, kind, country, updated_at, email, phone, address, city, postcode, notes) "
        + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    static let updateSQL = "UPDATE organisation SET name = ?, updated_at = ? WHERE id = ?"
    static let upsertSQL =
        insertSQL
        + " ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind, country = excluded.country, "
        + "updated_at = excluded.updated_at, email = excluded.email, phone = excluded.phone, address = excluded.address, "
        + "city = excluded.city, postcode = excluded.postcode, notes = excluded.notes"

    /// `count` rows of 11 text values each, id first.
    static func rows(_ count: Int, seed: UInt64 = 42) -> [[String]] {
        var random = Generator(seed: seed)
        return (0..<count).map { row($0, &random) }
    }

    /// Row `index`; call in order with one generator for the fixed data set.
    static func row(_ index: Int, _ random: inout Generator) -> [String] {
        let kinds = ["state", "agency", "forum", "working_group", "network", "unit", "project"]
        let countries = ["NL", "MA", "TR", "BE", "DE", "FR", "ES", "IT", "US", "JO"]
        let words = [
            "counter", "terrorism", "cooperation", "forum", "working", "group", "information", "exchange",
            "radicalisation", "prevention", "network", "financing", "narrative", "coalition", "roadmap", "action",
        ]
        func text(_ n: Int) -> String {
            (0..<n).map { _ in words[Int(random.next() % UInt64(words.count))] }.joined(separator: " ")
        }
        do {
            return [
                uuid(&random), "Organisation \(index) " + text(2), kinds[index % kinds.count],
                countries[index % countries.count],
                "2026-11-\(10 + index % 18)T10:\(10 + index % 50):00Z", "contact\(index)@agency.example",
                "+31 70 \(1_000_000 + index)",
                "\(index % 300) Lange Voorhout, " + text(2), "Den Haag", "\(2500 + index % 99) AB", text(16),
            ]
        }
    }

    static func uuid(_ random: inout Generator) -> String {
        let a = random.next()
        let b = random.next()
        let hex = String(format: "%016llx%016llx", a, b)
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-4" + String(c[13..<16]) + "-8" + String(c[17..<20]) + "-"
            + String(c[20..<32])
    }

    struct Generator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}

/// Wall time of a closure in seconds.
func measure(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// CPU seconds (user + system, all threads) of this process so far: unlike the wall clock, it
/// does not count the time spent waiting for a core on a loaded machine.
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Runs `body`; returns its CPU seconds (`processCPUSeconds`).
func measureCPU(_ body: () throws -> Void) rethrows -> Double {
    let start = processCPUSeconds()
    try body()
    return processCPUSeconds() - start
}

func measureAsync(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Peak resident memory of a process in bytes (VmHWM), from /proc.
func processPeakRSS(pid: Int32? = nil) -> Int {
    let path = "/proc/\(pid.map(String.init) ?? "self")/status"
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let digits = line.filter(\.isNumber)
        return (Int(digits) ?? 0) * 1024
    }
    return 0
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}
