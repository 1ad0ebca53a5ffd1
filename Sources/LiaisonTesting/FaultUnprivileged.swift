import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs `liaison` as an unprivileged user (nobody, via `setpriv`) when the tests run as root, since
/// root ignores file permissions; as itself otherwise.
public struct FaultUnprivileged: Sendable {
    public static let nobody: UInt32 = 65_534
    let setpriv: URL?

    /// Gives `paths` to nobody when running as root.
    public init(owning paths: [String]) throws {
        if geteuid() == 0 {
            guard let found = FaultTools.executable(named: "setpriv") else {
                throw FaultFailure("running as root, the read-only test needs setpriv to drop privileges")
            }
            setpriv = found
            for path in paths {
                try FileManager.default.setAttributes([.ownerAccountID: Self.nobody], ofItemAtPath: path)
            }
        } else {
            setpriv = nil
        }
    }

    public func run(_ cli: FaultCLI, _ arguments: [String]) async throws -> FaultOutcome {
        guard let setpriv else { return try await cli.run(arguments) }
        return try await FaultTools.run(
            setpriv,
            ["--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups", cli.binary.path] + arguments,
            in: cli.directory)
    }
}
