import ArgumentParser
import Foundation
import Liaison

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the rows of a table.")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The synced table.") var table: String
    @Flag(help: "Print JSON.") var json = false
    @Option(name: .customLong("where"), help: "Only rows whose COL is VALUE (repeatable; 'COL=' is NULL).")
    var conditions: [String] = []

    func validate() throws {
        for condition in conditions where !condition.contains("=") || condition.hasPrefix("=") {
            throw ValidationError("--where takes COL=VALUE, not '\(condition)'")
        }
    }

    func run() async throws {
        try await CLI.run(json: json) {
            let opened = try CLI.open(replica.database)
            var texts: [String: String] = [:]
            for condition in conditions {
                let parts = condition.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                texts[String(parts[0])] = String(parts[1])
            }
            var wanted = try opened.parse(table: table, texts.filter { $0.key != "id" })
            if let id = texts["id"] { wanted["id"] = .text(id) }
            let rows = try opened.rows(table).filter { row in wanted.allSatisfy { (row[$0.key] ?? .null) == $0.value } }
            if json {
                print("[" + rows.map(CanonicalJSON.object).joined(separator: ",\n ") + "]")
                return
            }
            let columns = try opened.columnNames(table)
            print(columns.joined(separator: "\t"))
            for row in rows {
                print(columns.map { TSV.escape(row[$0]?.displayText ?? "NULL") }.joined(separator: "\t"))
            }
        }
    }
}

/// Tab-separated output: a value's backslashes are doubled, then its tabs, newlines and other
/// control characters escaped as `TerminalText.field` writes them (`\t`, `\n`, `\u001b`…), so
/// each row stays one line of the right number of fields and the escapes cannot be forged.
enum TSV {
    static func escape(_ text: String) -> String {
        TerminalText.field(text.contains("\\") ? text.replacingOccurrences(of: "\\", with: "\\\\") : text)
    }
}
