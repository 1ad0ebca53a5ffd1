import Foundation
import LiaisonTesting
import Testing

// MARK: - Running the binary

/// What one run of a command printed and how it ended.
struct CommandResult: Sendable, Equatable, CustomStringConvertible {
    var status: Int32 = 0
    var stdout = ""
    var stderr = ""

    var description: String { "exit \(status), stdout: \(stdout.debugDescription), stderr: \(stderr.debugDescription)" }
}

/// Runs `body` with the built `liaison` in a fresh temporary directory.
func withCLI(_ body: (LiaisonCLI) async throws -> Void) async throws {
    let binary = try #require(
        FaultTools.liaison, "no built liaison next to the test bundle; run 'swift build --build-tests' first")
    try await withTemporaryDirectory { directory in try await body(LiaisonCLI(binary: binary, directory: directory)) }
}

/// Runs `body` with `nl.db`, a replica of NL-NCTV with the sample data, in a fresh temporary directory.
func withSampleReplica(_ body: (LiaisonCLI) async throws -> Void) async throws {
    try await withCLI { cli in
        try await cli.expectSuccess("init", "nl.db", "--site", "NL-NCTV", "--sample")
        try await body(cli)
    }
}

/// The built `liaison` binary, run in one test's directory with a controlled environment.
struct LiaisonCLI: Sendable {
    let binary: URL
    let directory: URL

    /// The login name the binary sees when neither `--author` nor `$LIAISON_AUTHOR` is given.
    static let loginName = "cli-tester"

    /// The environment every command gets: no inherited author or busy timeout.
    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in ["LIAISON_AUTHOR", "LIAISON_BUSY_TIMEOUT_MS", "LOGNAME"] { environment[key] = nil }
        environment["USER"] = Self.loginName
        return environment
    }

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The names of the files in the directory, sorted.
    func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    func callAsFunction(_ arguments: String..., environment extra: [String: String] = [:]) async throws -> CommandResult
    {
        try await run(arguments, environment: extra)
    }

    func run(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> CommandResult {
        try await runProcess(binary, arguments, in: directory, environment: environment.merging(extra) { $1 })
    }

    /// Runs the command and expects it to succeed quietly on stderr.
    func expectSuccess(
        _ arguments: String..., environment extra: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let result = try await run(arguments, environment: extra)
        #expect(
            result.status == 0 && result.stderr.isEmpty, "liaison \(arguments.joined(separator: " ")): \(result)",
            sourceLocation: sourceLocation)
    }

    /// Runs `sqlite3 DB SQL`, as a user editing the file by hand would.
    func sqlite(_ database: String, _ sql: String) async throws -> CommandResult {
        try await runProcess(FaultTools.sqlite3, [database, sql], in: directory, environment: environment)
    }

    /// Runs a command that must be refused as bad input, and checks that `database` is unchanged.
    func expectRefused(
        _ arguments: String..., mentioning phrases: String..., leaving database: String = "nl.db",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let before = try await snapshot(database)
        let result = try await run(arguments)
        expectBadInput(result, mentioning: phrases, sourceLocation: sourceLocation)
        #expect(
            try await snapshot(database) == before, "liaison \(arguments) wrote to \(database)",
            sourceLocation: sourceLocation)
    }

    /// `dump` and `log --json` together: what a refused command must leave as it was.
    func snapshot(_ database: String) async throws -> String {
        let dump = try await self("dump", database)
        let log = try await self("log", database, "--json")
        #expect(dump.status == 0 && log.status == 0, "\(dump) \(log)")
        return dump.stdout + log.stdout
    }

    func log(_ database: String) async throws -> [LoggedTransaction] {
        try decode(try await self("log", database, "--json"))
    }

    func status(_ database: String) async throws -> StatusReport {
        try decode(try await self("status", database, "--json"))
    }

    func conflicts(_ database: String, all: Bool = false) async throws -> [ConflictReport] {
        try decode(try await run(["conflicts", database, "--json"] + (all ? ["--all"] : [])))
    }

    func getJSON(_ database: String, _ table: String, _ id: String) async throws -> [String: JSONScalar] {
        try decode(try await self("get", database, table, id, "--json"))
    }

    private func decode<T: Decodable>(_ result: CommandResult) throws -> T {
        try #require(result.status == 0, "\(result)")
        return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
    }

    /// Starts `sqlite3 DB` holding `BEGIN EXCLUSIVE` until `release()`.
    func holdWriteLock(on database: String) async throws -> LockHolder {
        let holder = try LockHolder(sqlite3: FaultTools.sqlite3, database: database, directory: directory)
        try await holder.waitUntilLocked()
        return holder
    }

    /// Starts `liaison serve DB --port 0` and waits for the line that names its URL.
    func serve(_ database: String) async throws -> RunningServer {
        try await RunningServer.start(
            binary: binary, arguments: ["serve", database, "--port", "0"], directory: directory,
            environment: environment)
    }
}

/// Runs `executable` to completion. Output goes to files and the end is polled (`FaultProcess`),
/// so no thread blocks on a pipe or on `waitpid` while Swift Testing runs suites in parallel.
func runProcess(
    _ executable: URL, _ arguments: [String], in directory: URL, environment: [String: String]
) async throws
    -> CommandResult
{
    let outcome = try await FaultTools.run(
        executable, arguments, in: directory, environment: environment, timeout: .seconds(170))
    if outcome.timedOut { throw LiaisonCLIError(message: "\(executable.lastPathComponent) timed out: \(outcome)") }
    return CommandResult(
        status: outcome.signal.map { 128 + $0 } ?? outcome.status, stdout: outcome.stdout, stderr: outcome.stderr)
}

/// A `sqlite3` shell that holds the write lock of a database until released.
final class LockHolder: Sendable {
    private let process: FaultProcess

    init(sqlite3: URL, database: String, directory: URL) throws {
        process = try FaultProcess(
            executable: sqlite3, arguments: [database], directory: directory, environment: FaultTools.environment,
            acceptsInput: true)
        try process.start()
    }

    deinit { process.kill() }

    func waitUntilLocked() async throws {
        process.send("BEGIN EXCLUSIVE;\nSELECT 'lock held';\n")
        let seen = await process.waitForOutput("lock held", timeout: .seconds(60))
        try #require(seen, "sqlite3 did not take the lock: \(process.stdout) \(process.stderr)")
    }

    /// Rolls back, quits, and returns the shell's exit status.
    func release() async throws -> Int32 {
        process.send("ROLLBACK;\n.quit\n")
        process.closeInput()
        return await process.wait(timeout: .seconds(60)).status
    }
}

/// A `liaison serve` process in the background.
final class RunningServer: Sendable {
    let url: String
    private let process: FaultProcess

    private init(url: String, process: FaultProcess) {
        self.url = url
        self.process = process
    }

    static func start(
        binary: URL, arguments: [String], directory: URL, environment: [String: String]
    ) async throws
        -> RunningServer
    {
        let process = try FaultProcess(
            executable: binary, arguments: arguments, directory: directory, environment: environment)
        try process.start()
        _ = await process.waitForOutput("\n", timeout: .seconds(60))
        let printed = process.stdout
        guard let line = printed.split(separator: "\n").first, line.contains(" serving "),
            let start = line.range(of: "http://")
        else {
            let outcome = await process.wait(timeout: .zero)
            throw LiaisonCLIError(message: "liaison serve did not print its URL: \(outcome)")
        }
        return RunningServer(url: String(line[start.lowerBound...]), process: process)
    }

    deinit { process.kill() }

    /// Sends SIGTERM and returns the exit status and everything printed.
    func stop() async throws -> CommandResult {
        process.kill(SIGTERM)
        let outcome = await process.wait(timeout: .seconds(30))
        return CommandResult(status: outcome.signal.map { 128 + $0 } ?? outcome.status, stdout: outcome.stdout)
    }
}

struct LiaisonCLIError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
