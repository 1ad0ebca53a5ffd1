import CSpawn
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How a child process of a fault test ended.
public struct FaultOutcome: Sendable, CustomStringConvertible {
    /// The exit status, meaningless when `signal` is set.
    public var status: Int32
    /// The signal that ended the process, if one did (a crash, or our SIGKILL).
    public var signal: Int32?
    public var stdout: String
    public var stderr: String
    /// Whether the process outlived its time limit and was killed for it.
    public var timedOut: Bool

    public var description: String {
        let end = signal.map { "signal \($0)" } ?? "exit \(status)"
        return "\(end)\(timedOut ? " (timed out)" : ""), stdout: \(stdout.prefix(400).debugDescription), "
            + "stderr: \(stderr.prefix(1_500).debugDescription)"
    }

    /// The lines written to stderr.
    public var errorLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
}

/// A child process whose output goes to files, so nothing blocks on a full pipe and a SIGKILL
/// leaves everything it printed readable.
///
/// Started by `liaison_spawn` (CSpawn): the child is SIGKILLed when the test process dies, however
/// it dies, so no `liaison serve` outlives a crashed test run. Its end is polled with
/// `waitpid(WNOHANG)` from async code: no thread ever blocks on it.
public final class FaultProcess: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: pid_t = 0
    private var ended: (status: Int32, signal: Int32?)?
    private let stdoutURL: URL
    private let stderrURL: URL
    private let executable: URL
    private let directory: URL
    private let environment: [String: String]
    private let acceptsInput: Bool
    /// The write end of the child's stdin pipe, when it has one.
    private var inputFD: Int32 = -1
    public let arguments: [String]

    /// - Parameter acceptsInput: give the process a pipe on stdin (see `send(_:)`), else /dev/null.
    public init(
        executable: URL, arguments: [String], directory: URL, environment: [String: String], acceptsInput: Bool = false
    ) throws {
        // Beside the test directory, not in it: tests list what a command left in its directory.
        let logs = directory.deletingLastPathComponent().appendingPathComponent(
            ".fault-logs-\(directory.lastPathComponent)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let name = UUID().uuidString.prefix(8)
        stdoutURL = logs.appendingPathComponent("\(name).out")
        stderrURL = logs.appendingPathComponent("\(name).err")
        self.arguments = arguments
        self.executable = executable
        self.directory = directory
        self.environment = environment
        self.acceptsInput = acceptsInput
    }

    deinit {
        if inputFD >= 0 { close(inputFD) }
    }

    /// Starts the process.
    public func start() throws {
        let output = open(stdoutURL.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let errors = open(stderrURL.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        var pipeEnds: [Int32] = [-1, -1]
        let input: Int32
        if acceptsInput {
            guard liaison_pipe_cloexec(&pipeEnds) == 0 else {
                throw FaultFailure("pipe: \(String(cString: strerror(errno)))")
            }
            input = pipeEnds[0]
        } else {
            input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        }
        defer {
            for fd in [output, errors, input] where fd >= 0 { close(fd) }
        }
        guard output >= 0, errors >= 0, input >= 0 else {
            if pipeEnds[1] >= 0 { close(pipeEnds[1]) }
            throw FaultFailure("cannot open the output files of \(executable.lastPathComponent) in \(directory.path)")
        }
        let argv = [executable.path] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        let result = withCStrings(argv) { argv in
            withCStrings(envp) { envp in
                liaison_spawn(executable.path, argv, envp, directory.path, input, output, errors)
            }
        }
        guard result > 0 else {
            if pipeEnds[1] >= 0 { close(pipeEnds[1]) }
            throw FaultFailure("cannot start \(executable.path): \(String(cString: strerror(-result)))")
        }
        lock.withLock {
            pid = result
            inputFD = pipeEnds[1]
        }
    }

    public var processIdentifier: Int32 { lock.withLock { pid } }

    /// Writes `text` to the process's stdin (when it was started with `acceptsInput`).
    public func send(_ text: String) {
        let fd = lock.withLock { inputFD }
        guard fd >= 0 else { return }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Closes the process's stdin.
    public func closeInput() {
        lock.withLock {
            if inputFD >= 0 { close(inputFD) }
            inputFD = -1
        }
    }

    /// Waits (at most `timeout`) until stdout contains `marker`; returns whether it did.
    public func waitForOutput(_ marker: String, timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if stdout.contains(marker) { return true }
            if !isRunning { return stdout.contains(marker) }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return stdout.contains(marker)
    }

    /// Whether the process runs (reaps it, without blocking, when it has ended).
    public var isRunning: Bool {
        lock.withLock {
            guard pid > 0 else { return false }
            if ended != nil { return false }
            var status: Int32 = -1
            var signal: Int32 = -1
            switch liaison_poll_child(pid, &status, &signal) {
            case 0: return true
            case 1: ended = signal >= 0 ? (signal, signal) : (status, nil)
            default: ended = (-1, nil)
            }
            return false
        }
    }

    /// Sends `signal` (SIGKILL by default) to this process only, by its id, if it still runs.
    /// Returns whether it was running.
    @discardableResult
    public func kill(_ signal: Int32 = SIGKILL) -> Bool {
        // Checked and sent under the lock: a reaped pid is never signalled (it may be reused).
        lock.withLock {
            guard pid > 0, ended == nil else { return false }
            return Foundation.kill(pid, signal) == 0
        }
    }

    /// A field of `/proc/PID/status` in KiB (`VmRSS` resident now, `VmHWM` its peak), while it runs.
    public func memoryKiB(_ field: String = "VmRSS") -> Int? {
        let pid = processIdentifier
        guard pid > 0, let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
            return nil
        }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return nil }
        return Int(line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ")[0])
    }

    /// The highest `VmHWM` seen while waiting for the end (`wait`), in KiB.
    public var peakResidentKiB: Int { lock.withLock { peakSeen } }
    private var peakSeen = 0

    /// What it printed so far.
    public var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits for the end, at most `timeout`; a process still running then is killed.
    public func wait(timeout: Duration = .seconds(120)) async -> FaultOutcome {
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        var pause = Duration.milliseconds(1)
        while isRunning {
            if let peak = memoryKiB("VmHWM") { lock.withLock { peakSeen = max(peakSeen, peak) } }
            if ContinuousClock.now >= deadline && !timedOut {
                timedOut = kill(SIGKILL)
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(20))
        }
        closeInput()
        let end: (status: Int32, signal: Int32?) = lock.withLock { ended } ?? (-1, nil)
        return FaultOutcome(
            status: end.status, signal: end.signal, stdout: stdout, stderr: stderr, timedOut: timedOut)
    }
}

/// Runs `body` with `strings` as a NULL-terminated C array.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return body(pointers)
}

/// The executables fault tests run, and the environment they run them in.
public enum FaultTools {
    /// The `liaison` built with the running test bundle: beside it first (the test bundle sits with
    /// the executables of its build), then `.build/debug` or `.build-cli/debug`. `LIAISON_BINARY` overrides.
    public static let liaison: URL? = {
        let fileManager = FileManager.default
        if let override = ProcessInfo.processInfo.environment["LIAISON_BINARY"] {
            return URL(fileURLWithPath: override)
        }
        func executable(in directory: URL) -> URL? {
            let candidate = directory.appendingPathComponent("liaison")
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                fileManager.isExecutableFile(atPath: candidate.path)
            else { return nil }
            return candidate
        }
        var starts = [URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])]
        starts += [Bundle.main.executableURL, Bundle.main.bundleURL].compactMap { $0 }
        starts += Bundle.allBundles.map(\.bundleURL).filter { $0.pathExtension == "xctest" }
        for start in starts {
            var directory = start.resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<4 {
                if let found = executable(in: directory) { return found }
                directory = directory.deletingLastPathComponent()
            }
        }
        // Last resort: the package root above this file, with the usual build directories.
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while root.path != "/" && !fileManager.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root = root.deletingLastPathComponent()
        }
        for build in [".build", ".build-cli"] {
            if let found = executable(in: root.appendingPathComponent(build).appendingPathComponent("debug")) {
                return found
            }
        }
        return nil
    }()

    /// `sqlite3` from `/usr/bin` or the `PATH`.
    public static let sqlite3: URL = executable(named: "sqlite3") ?? URL(fileURLWithPath: "/usr/bin/sqlite3")

    /// An executable on `/usr/bin`, `/bin`, `/usr/sbin`, `/sbin` or the `PATH`.
    public static func executable(named name: String) -> URL? {
        let paths =
            ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for path in paths where FileManager.default.isExecutableFile(atPath: path + "/" + name) {
            return URL(fileURLWithPath: path + "/" + name)
        }
        return nil
    }

    /// The inherited environment without author or lock settings.
    public static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in ["LIAISON_AUTHOR", "LIAISON_BUSY_TIMEOUT_MS", "LOGNAME"] { environment[key] = nil }
        environment["USER"] = "fault-tester"
        return environment
    }

    /// The same without Swift's backtracer, for processes expected to crash: they end at once
    /// (runtime messages such as `Fatal error: …` still reach stderr).
    public static var environmentWithoutBacktraces: [String: String] {
        var environment = self.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        return environment
    }

    /// Runs `executable` to completion (at most `timeout`, then SIGKILL).
    public static func run(
        _ executable: URL, _ arguments: [String], in directory: URL,
        environment: [String: String] = FaultTools.environment,
        timeout: Duration = .seconds(120)
    ) async throws -> FaultOutcome {
        let process = try FaultProcess(
            executable: executable, arguments: arguments, directory: directory, environment: environment)
        try process.start()
        return await process.wait(timeout: timeout)
    }
}

/// A failure of the fault harness itself.
public struct FaultFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
