import Foundation

/// Checks that values fit their columns, and parses the text the CLI receives.
enum Validation {
    static func check(_ value: CellValue, for column: ColumnDefinition, in table: TableInfo, db: Connection?) throws {
        if value == .null {
            if column.isRequired {
                throw LiaisonError(.typeMismatch, "column '\(table.name).\(column.name)' cannot be NULL")
            }
            return
        }
        func mismatch(_ expected: String) -> LiaisonError {
            LiaisonError(
                .typeMismatch,
                "column '\(table.name).\(column.name)' takes \(expected); got \(value.debugText)")
        }
        switch column.name {
        case "scope":
            guard case .text(let scope) = value, Scope.isValid(scope) else {
                throw mismatch("a scope such as public, eu, gctf, coalition or bilateral:NL-MA")
            }
            return
        case "owner":
            // Empty when another SQLite client inserted the row without naming its owner.
            guard case .text(let owner) = value, owner.isEmpty || SiteCode(owner) != nil else {
                throw mismatch("a site code (\(SiteCode.rule))")
            }
            return
        default: break
        }
        switch column.type {
        case .text:
            guard case .text = value else { throw mismatch("text") }
        case .integer:
            guard case .integer = value else { throw mismatch("a whole number") }
        case .real:
            switch value {
            case .integer, .real: break
            default: throw mismatch("a number")
            }
        case .date:
            guard case .text(let text) = value, isDate(text) else {
                throw mismatch("a date YYYY, YYYY-MM or YYYY-MM-DD")
            }
        case .choice(let words):
            guard case .text(let text) = value, words.contains(text) else {
                let hint = value.textValue.flatMap { Suggestion.nearest(to: $0, in: words) }
                throw mismatch(
                    "one of \(words.joined(separator: ", "))\(hint.map { " (did you mean '\($0)'?)" } ?? "")")
            }
        case .reference(let target):
            guard case .text(let id) = value else { throw mismatch("the id of a '\(target)' row") }
            if let db {
                let exists =
                    try db.first("SELECT 1 FROM \(CaptureTriggers.quoted(target)) WHERE id = ?", [.text(id)]) { _ in
                        true
                    }
                    ?? false
                if !exists {
                    throw LiaisonError(
                        .typeMismatch,
                        "column '\(table.name).\(column.name)' refers to '\(target)' '\(id)', which does not exist")
                }
            }
        }
    }

    /// The value in the column's storage type: JSON cannot tell 1.0 from 1, so a whole number
    /// for a `real` column becomes a real.
    static func normalized(_ value: CellValue, for column: ColumnDefinition) -> CellValue {
        if column.type == .real, case .integer(let number) = value { return .real(Double(number)) }
        return value
    }

    /// Turns command-line text into a value of the column's type; an empty string is NULL.
    static func parse(_ text: String, for column: ColumnDefinition, in table: TableInfo) throws -> CellValue {
        if text.isEmpty { return .null }
        switch column.type {
        case .integer:
            guard let number = Int64(text) else {
                throw LiaisonError(
                    .typeMismatch, "column '\(table.name).\(column.name)' takes a whole number; got '\(text)'")
            }
            return .integer(number)
        case .real:
            guard let number = Double(text), number.isFinite else {
                throw LiaisonError(.typeMismatch, "column '\(table.name).\(column.name)' takes a number; got '\(text)'")
            }
            return .real(number)
        default:
            return .text(text)
        }
    }

    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), parts[0].count == 4, Int(parts[0]) != nil else { return false }
        if parts.count >= 2 {
            guard parts[1].count == 2, let month = Int(parts[1]), (1...12).contains(month) else { return false }
        }
        if parts.count == 3 {
            guard parts[2].count == 2, let day = Int(parts[2]), (1...31).contains(day) else { return false }
        }
        return true
    }
}

/// Sharing scopes: `public`, `eu`, `gctf`, `coalition`, `bilateral:NL-MA`, …
public enum Scope {
    /// Whether a grant (`nil` or containing `*` for every scope) allows `scope`.
    public static func allows(_ grant: Set<String>?, _ scope: String) -> Bool {
        guard let grant else { return true }
        return grant.contains("*") || grant.contains(scope)
    }

    /// Parses a grant such as `public,eu,bilateral:NL-MA` or `*`.
    public static func parseGrant(_ text: String) throws -> Set<String> {
        let scopes = Set(
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        for scope in scopes where scope != "*" && !isValid(scope) {
            throw LiaisonError(
                .invalidInput, "invalid scope '\(scope)': use lower-case words such as public, eu, bilateral:NL-MA")
        }
        return scopes
    }

    /// Lower-case letters, digits, `-`, `_`, `:` and upper-case site codes after a colon; 1 to 64 characters.
    public static func isValid(_ scope: String) -> Bool {
        guard (1...64).contains(scope.count), let first = scope.unicodeScalars.first, first.properties.isLowercase
        else {
            return false
        }
        return scope.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || "-_:".unicodeScalars.contains($0)
        }
    }
}

extension CellValue {
    /// The text, for a text value.
    var textValue: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// The value quoted for an error message.
    var debugText: String {
        switch self {
        case .null: return "NULL"
        case .text(let text): return "'\(text)'"
        case .integer(let value): return "\(value)"
        case .real(let value): return "\(value)"
        }
    }
}
