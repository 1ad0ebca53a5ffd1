import Foundation
import LiaisonTesting
import Testing

// MARK: - Expectations

/// A value the schema refuses, and a phrase the error must contain.
struct BadValue: Sendable, CustomTestStringConvertible {
    let table: String
    let id: String
    let assignment: String
    let expected: String

    init(_ table: String, _ id: String, _ assignment: String, expecting expected: String) {
        self.table = table
        self.id = id
        self.assignment = assignment
        self.expected = expected
    }

    var testDescription: String { "\(table) \(assignment)" }
}

/// Checks the contract for refused input: exit 64, nothing on stdout, one `liaison: ` line on stderr.
func expectBadInput(
    _ result: CommandResult, mentioning phrases: String..., sourceLocation: SourceLocation = #_sourceLocation
) {
    expectBadInput(result, mentioning: phrases, sourceLocation: sourceLocation)
}

func expectBadInput(_ result: CommandResult, mentioning phrases: [String], sourceLocation: SourceLocation) {
    #expect(result.status == 64, "\(result)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "\(result)", sourceLocation: sourceLocation)
    expectOneErrorLine(result.stderr, sourceLocation: sourceLocation)
    for phrase in phrases {
        #expect(result.stderr.contains(phrase), "expected '\(phrase)' in \(result)", sourceLocation: sourceLocation)
    }
}

/// Errors are exactly one line on stderr, starting with `liaison: `.
func expectOneErrorLine(_ stderr: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(stderr.hasPrefix("liaison: "), "stderr: \(stderr)", sourceLocation: sourceLocation)
    #expect(
        stderr.hasSuffix("\n") && stderr.filter { $0 == "\n" }.count == 1, "stderr: \(stderr)",
        sourceLocation: sourceLocation)
}

// MARK: - What the JSON output looks like

/// One transaction of `liaison log --json`.
struct LoggedTransaction: Decodable, Equatable {
    var origin: String
    var site: String
    var seq: Int64
    var hlc: UInt64
    var time: String
    var author: String
    var changes: [LoggedChange]
}

/// One change of a logged transaction.
struct LoggedChange: Decodable, Equatable {
    var table: String
    var id: String
    var op: String
    var values: [String: JSONScalar]?
}

/// The parts of `liaison status --json` the tests read.
struct StatusReport: Decodable {
    var siteID: String
    var site: String
    var vector: [String: Int64]
    var openConflicts: Int
}

/// One conflict of `liaison conflicts --json`.
struct ConflictReport: Decodable, Equatable {
    struct Side: Decodable, Equatable {
        var site: String
        var author: String
        var value: JSONScalar?
    }

    var id: String
    var kind: String
    var table: String
    var rowID: String
    var column: String?
    var state: String
    var winner: Side
    var loser: Side
}

/// The error object `--json` commands print on stderr.
struct ErrorObject: Decodable {
    var error: String
    var message: String
}
