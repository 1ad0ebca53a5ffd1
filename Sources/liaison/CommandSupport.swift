import ArgumentParser
import Foundation
import Liaison

/// The replica path every command takes first, as sqlite-utils does.
struct ReplicaArgument: ParsableArguments {
    @Argument(help: "The replica database file.")
    var database: String
}

/// Options shared by commands that write.
struct AuthorOption: ParsableArguments {
    @Option(help: "Who makes the edit (default: $LIAISON_AUTHOR, else the login name).")
    var author: String?

    var resolved: String {
        if let author, !author.isEmpty { return author }
        if let env = ProcessInfo.processInfo.environment["LIAISON_AUTHOR"], !env.isEmpty { return env }
        return ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.userName
    }
}

/// Checks `--read`/`--write` grants such as `public,eu` or `*` in `validate()`.
func validateGrants(_ grants: String...) throws {
    do {
        for grant in grants { _ = try Scope.parseGrant(grant) }
    } catch let error as LiaisonError {
        throw ValidationError(error.message)
    }
}

/// Exit codes of the contract: 0 success, 64 bad usage or input, 1 other failures.
enum CLI {
    static let usageExit: Int32 = 64

    /// Runs `body`, turning errors into one line on stderr (a JSON object with `json`) and the exit code.
    static func run(json: Bool = false, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as LiaisonError {
            report(code: error.code.description, message: error.message, json: json)
            throw ExitCode(error.isUsageError ? usageExit : 1)
        } catch let error as ExitCode {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch {
            report(code: "error", message: "\(error)", json: json)
            throw ExitCode(1)
        }
    }

    static func report(code: String, message: String, json: Bool) {
        let line =
            json
            ? (try? WireJSON.string(ErrorResponse(error: code, message: message))) ?? message
            : "liaison: \(message)"
        FileHandle.standardError.write(Data((TerminalText.lines(line) + "\n").utf8))
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = WireJSON.encoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func open(_ path: String) throws -> Replica {
        try Replica.open(at: path, busyTimeout: busyTimeout)
    }

    /// How long to wait for another process's lock (`LIAISON_BUSY_TIMEOUT_MS`, default 5000).
    static var busyTimeout: Duration {
        .milliseconds(Int(ProcessInfo.processInfo.environment["LIAISON_BUSY_TIMEOUT_MS"] ?? "") ?? 5_000)
    }
}

extension CellValue {
    /// Plain JSON for `--json` output.
    var jsonObject: Any {
        switch self {
        case .null: return NSNull()
        case .integer(let v): return v
        case .real(let v): return v
        case .text(let v): return v
        }
    }
}
