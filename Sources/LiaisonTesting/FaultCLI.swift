import Foundation

/// The built `liaison` run in one test directory, with decoders for its JSON output that read
/// only the fields the fault suites need (other fields may come and go).
public struct FaultCLI: Sendable {
    public let binary: URL
    public let directory: URL
    /// What every command runs with (`FaultTools.environment` unless changed).
    public var environment: [String: String]

    public init(binary: URL, directory: URL, environment: [String: String] = FaultTools.environment) {
        self.binary = binary
        self.directory = directory
        self.environment = environment
    }

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Runs `liaison ARGUMENTS` to completion (at most `timeout`).
    public func run(_ arguments: [String], timeout: Duration = .seconds(180)) async throws -> FaultOutcome {
        try await FaultTools.run(binary, arguments, in: directory, environment: environment, timeout: timeout)
    }

    /// Starts `liaison ARGUMENTS` without waiting.
    public func start(_ arguments: [String]) throws -> FaultProcess {
        let process = try FaultProcess(
            executable: binary, arguments: arguments, directory: directory, environment: environment)
        try process.start()
        return process
    }

    /// Runs a command that must succeed and returns its stdout.
    public func output(_ arguments: [String], timeout: Duration = .seconds(180)) async throws -> String {
        let outcome = try await run(arguments, timeout: timeout)
        guard outcome.signal == nil, outcome.status == 0 else {
            throw FaultFailure("liaison \(arguments.joined(separator: " ")): \(outcome)")
        }
        return outcome.stdout
    }

    public func dump(_ database: String) async throws -> String { try await output(["dump", database]) }

    /// The version vector of `liaison status --json`.
    public func vector(_ database: String) async throws -> [String: Int64] {
        let text = try await output(["status", database, "--json"])
        return try JSONDecoder().decode(FaultStatus.self, from: Data(text.utf8)).vector
    }

    public func status(_ database: String) async throws -> FaultStatus {
        let text = try await output(["status", database, "--json"])
        return try JSONDecoder().decode(FaultStatus.self, from: Data(text.utf8))
    }

    public func log(_ database: String) async throws -> [FaultLogEntry] {
        let text = try await output(["log", database, "--json"])
        return try JSONDecoder().decode([FaultLogEntry].self, from: Data(text.utf8))
    }

    /// How many conflicts `liaison conflicts --json --all` lists.
    public func conflictCount(_ database: String) async throws -> Int {
        let text = try await output(["conflicts", database, "--json", "--all"])
        guard let list = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any] else {
            throw FaultFailure("liaison conflicts --json did not print a list: \(text.prefix(200))")
        }
        return list.count
    }

    /// Runs `sqlite3 DATABASE SQL`.
    public func sqlite(_ database: String, _ sql: String) async throws -> FaultOutcome {
        try await FaultTools.run(FaultTools.sqlite3, [database, sql], in: directory)
    }
}

/// The parts of `liaison status --json` the fault suites read.
public struct FaultStatus: Decodable, Sendable {
    public var siteID: String
    public var site: String
    public var vector: [String: Int64]
    public var openConflicts: Int
}

/// One transaction of `liaison log --json`.
public struct FaultLogEntry: Decodable, Sendable, Hashable {
    public var origin: String
    public var site: String
    public var seq: Int64
    public var hlc: Int64
    public var author: String
    public var changes: [FaultLoggedChange]
}

/// One change of a logged transaction: what it wrote, without the extras some peers add.
public struct FaultLoggedChange: Decodable, Sendable, Hashable {
    public var table: String
    public var id: String
    public var op: String
    public var values: [String: JSONScalar]?
}

/// One scalar of a row, as the CLI's JSON output carries it.
public enum JSONScalar: Decodable, Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let text = try? container.decode(String.self) {
            self = .text(text)
        } else if let integer = try? container.decode(Int64.self) {
            self = .integer(integer)
        } else {
            self = .real(try container.decode(Double.self))
        }
    }

    /// The text, when it is one.
    public var text: String? {
        if case .text(let text) = self { return text }
        return nil
    }
}

/// Checks of change logs across replicas.
public enum FaultLogs {
    /// Problems of `logs` (one per replica, by name) against the origins' own logs: every
    /// transaction once per replica, with exactly the changes its origin logged.
    public static func problems(_ logs: [String: [FaultLogEntry]], originOf: [String: String]) -> [String] {
        var problems: [String] = []
        var original: [String: FaultLogEntry] = [:]
        for (name, log) in logs {
            for entry in log where originOf[entry.origin] == name { original["\(entry.origin)#\(entry.seq)"] = entry }
        }
        for (name, log) in logs.sorted(by: { $0.key < $1.key }) {
            var seen = Set<String>()
            for entry in log {
                let key = "\(entry.origin)#\(entry.seq)"
                if !seen.insert(key).inserted { problems.append("\(name) logs \(entry.site)#\(entry.seq) twice") }
                guard let origin = original[key] else {
                    problems.append("\(name) logs \(entry.site)#\(entry.seq), which its origin does not have")
                    continue
                }
                if origin.changes != entry.changes {
                    problems.append(
                        "\(name) holds \(entry.site)#\(entry.seq) with \(entry.changes.count) changes, its origin logged "
                            + "\(origin.changes.count) (a transaction half applied or altered)")
                }
            }
        }
        return problems
    }
}
