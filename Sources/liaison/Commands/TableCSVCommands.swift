import ArgumentParser
import Foundation
import Liaison

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Print a table as CSV (RFC 4180, a header line of column names).")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The synced table.") var table: String
    @Flag(help: "CSV (the only format for now).") var csv = false

    func validate() throws {
        guard csv else { throw ValidationError("give --csv (the only export format)") }
    }

    func run() async throws {
        try await CLI.run {
            let opened = try CLI.open(replica.database)
            let columns = try opened.columnNames(table)
            var out = TableCSV.line(columns)
            for row in try opened.rows(table) {
                out += TableCSV.line(columns.map { row[$0].map { $0 == .null ? "" : $0.displayText } ?? "" })
            }
            FileHandle.standardOutput.write(Data(out.utf8))
        }
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Insert or update rows from CSV with a header line; every value is checked, all in one transaction.")

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The synced table.") var table: String
    @Argument(help: "The CSV file.") var file: String
    @Flag(help: "CSV (the only format for now).") var csv = false
    @OptionGroup var author: AuthorOption

    func validate() throws {
        guard csv else { throw ValidationError("give --csv (the only import format)") }
    }

    func run() async throws {
        try await CLI.run {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw LiaisonError(.invalidInput, "cannot read '\(file)'; give the path of a CSV file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw LiaisonError(.invalidInput, "'\(file)' is not UTF-8 text")
            }
            let records = try TableCSV.parse(text)
            guard let header = records.first, !header.isEmpty else {
                throw LiaisonError(.invalidInput, "'\(file)' is empty: the first line names the columns")
            }
            guard let idColumn = header.firstIndex(of: "id") else {
                throw LiaisonError(.invalidInput, "the header line has no 'id' column")
            }
            let opened = try CLI.open(replica.database)
            var rows: [(String, [String: CellValue])] = []
            for (number, record) in records.dropFirst().enumerated() where record != [""] {
                guard record.count == header.count else {
                    throw LiaisonError(
                        .invalidInput,
                        "line \(number + 2) has \(record.count) fields; the header has \(header.count); nothing was imported"
                    )
                }
                var texts: [String: String] = [:]
                for (index, name) in header.enumerated() where index != idColumn { texts[name] = record[index] }
                do {
                    rows.append((record[idColumn], try opened.parse(table: table, texts)))
                } catch let error as LiaisonError {
                    throw LiaisonError(error.code, "line \(number + 2): \(error.message); nothing was imported")
                }
            }
            do {
                try opened.write(author: author.resolved) { editor in
                    for (id, values) in rows { try editor.set(table, id: id, values) }
                }
            } catch let error as LiaisonError {
                throw LiaisonError(error.code, "\(error.message); nothing was imported")
            }
            print("imported \(rows.count) rows into \(table)")
        }
    }
}

/// RFC 4180 CSV for `export` and `import`.
enum TableCSV {
    static func line(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",") + "\r\n"
    }

    /// Records of fields; quoted fields may hold commas, quotes (doubled) and line breaks.
    static func parse(_ text: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var atFieldStart = true
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let scalar = pending {
                pending = nil
                return scalar
            }
            return iterator.next()
        }
        while let scalar = next() {
            if quoted {
                if scalar == "\"" {
                    if let following = next() {
                        if following == "\"" {
                            field.unicodeScalars.append("\"")
                        } else {
                            quoted = false
                            pending = following
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where atFieldStart:
                quoted = true
                atFieldStart = false
            case ",":
                record.append(field)
                field = ""
                atFieldStart = true
            case "\r":
                continue
            case "\n":
                record.append(field)
                records.append(record)
                record = []
                field = ""
                atFieldStart = true
            default:
                field.unicodeScalars.append(scalar)
                atFieldStart = false
            }
        }
        if quoted { throw LiaisonError(.invalidInput, "the CSV ends inside a quoted field") }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }
}
