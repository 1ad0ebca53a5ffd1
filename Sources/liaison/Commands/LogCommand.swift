import ArgumentParser
import Foundation
import Liaison

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "The change log: origin, seq, time, author and changes of each transaction.")

    @OptionGroup var replica: ReplicaArgument
    @Flag(help: "Print JSON.") var json = false
    @Option(help: "Show only the newest N transactions.") var limit: Int?
    @Option(help: "Only transactions that change this table.") var table: String?
    @Option(help: "Only transactions by this author.") var author: String?
    @Option(help: "Only transactions of the last 30m, 1h30m, 7d… or since a date (2026-11-30 or an ISO time).")
    var since: String?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let since, LogFilter.start(since, now: Date()) == nil {
            throw ValidationError(
                "--since takes a duration such as \(DurationText.examples), or a date such as 2026-11-30")
        }
    }

    func run() async throws {
        try await CLI.run(json: json) {
            let opened = try CLI.open(replica.database)
            if let table { _ = try opened.columnNames(table) }
            let start = since.flatMap { LogFilter.start($0, now: Date()) }
            let filtering = table != nil || author != nil || start != nil
            var entries = try opened.log(limit: filtering ? nil : limit).filter { entry in
                (table == nil || entry.changes.contains { $0.table == table })
                    && (author == nil || entry.author == author)
                    && (start == nil || entry.hlc.milliseconds >= Int64(start!.timeIntervalSince1970 * 1000))
            }
            if filtering, let limit { entries = Array(entries.suffix(limit)) }
            if json {
                try CLI.printJSON(entries)
                return
            }
            for entry in entries {
                print(
                    "\(entry.site)#\(entry.seq) [\(entry.fingerprint ?? "untrusted")]  \(entry.time)  by \(TerminalText.field(entry.author))  (\(entry.changes.count) changes)"
                )
                for change in entry.changes.prefix(20) {
                    let values = change.values.map { CanonicalJSON.object($0) } ?? ""
                    print(
                        "  \(change.op.rawValue) \(TerminalText.field(change.table)) \(TerminalText.field(change.id)) "
                            + TerminalText.field(values))
                }
                if entry.changes.count > 20 { print("  … \(entry.changes.count - 20) more") }
                if let resolves = entry.resolves {
                    print("  resolves \(TerminalText.field(resolves.joined(separator: ", ")))")
                }
            }
        }
    }
}

/// `--since`: a duration back from now (as every duration option takes it) or a date.
enum LogFilter {
    static func start(_ text: String, now: Date) -> Date? {
        if let duration = parseInterval(text) {
            return now.addingTimeInterval(-Double(duration.components.seconds))
        }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text + "T00:00:00Z", strategy: .iso8601)
    }
}
