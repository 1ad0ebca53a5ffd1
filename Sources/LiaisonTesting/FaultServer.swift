import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A `liaison serve` child process that can be killed and restarted on the same port.
public final class FaultServer: @unchecked Sendable {
    public let binary: URL
    public let database: String
    public let directory: URL
    public let extraArguments: [String]
    public let environment: [String: String]
    private let lock = NSLock()
    private var current: FaultProcess
    private var boundPort: Int

    private init(
        binary: URL, database: String, directory: URL, extraArguments: [String], environment: [String: String],
        process: FaultProcess, port: Int
    ) {
        self.binary = binary
        self.database = database
        self.directory = directory
        self.extraArguments = extraArguments
        self.environment = environment
        self.current = process
        self.boundPort = port
    }

    public var port: Int { lock.withLock { boundPort } }
    public var url: String { "http://127.0.0.1:\(port)" }
    public var process: FaultProcess { lock.withLock { current } }

    /// Starts `liaison serve DATABASE --port 0` and waits for the line naming its URL.
    public static func start(
        binary: URL, database: String, in directory: URL, extraArguments: [String] = [],
        environment: [String: String] = FaultTools.environment
    ) async throws -> FaultServer {
        let (process, port) = try await launch(
            binary: binary, database: database, directory: directory, port: 0, extraArguments: extraArguments,
            environment: environment)
        return FaultServer(
            binary: binary, database: database, directory: directory, extraArguments: extraArguments,
            environment: environment, process: process, port: port)
    }

    private static func launch(
        binary: URL, database: String, directory: URL, port: Int, extraArguments: [String],
        environment: [String: String]
    ) async throws -> (FaultProcess, Int) {
        let process = try FaultProcess(
            executable: binary,
            arguments: ["serve", database, "--host", "127.0.0.1", "--port", String(port)] + extraArguments,
            directory: directory, environment: environment)
        try process.start()
        // Checked once more after the deadline: a test process busy with other tests may wake this
        // task only after the deadline, long after the server printed its address.
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let late = ContinuousClock.now >= deadline
            let printed = process.stdout
            if let line = printed.split(separator: "\n").first(where: { $0.contains(" serving ") }),
                let range = line.range(of: "http://127.0.0.1:"),
                let bound = Int(line[range.upperBound...].prefix { $0.isNumber })
            {
                return (process, bound)
            }
            if late || !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.kill()
        let outcome = await process.wait(timeout: .seconds(10))
        throw FaultFailure("liaison serve \(database) did not start: \(outcome)")
    }

    /// SIGKILLs the server; returns whether it was running.
    @discardableResult
    public func kill() -> Bool { process.kill(SIGKILL) }

    /// Starts the server again on the port it had (retrying while the port is still held),
    /// after the previous process has ended.
    public func restart() async throws {
        let old = process
        old.kill()
        _ = await old.wait(timeout: .seconds(30))
        var lastError: (any Error)?
        for _ in 0..<40 {
            do {
                let (process, port) = try await Self.launch(
                    binary: binary, database: database, directory: directory, port: self.port,
                    extraArguments: extraArguments,
                    environment: environment)
                lock.withLock {
                    current = process
                    boundPort = port
                }
                return
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError ?? FaultFailure("liaison serve \(database) did not restart")
    }

    /// Stops the server with SIGTERM (SIGKILL after a while) and returns how it ended.
    @discardableResult
    public func stop() async -> FaultOutcome {
        let process = self.process
        process.kill(SIGTERM)
        return await process.wait(timeout: .seconds(20))
    }
}
