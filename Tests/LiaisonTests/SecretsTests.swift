import Foundation
import LiaisonTesting
import Testing

/// The agency's signing key and its peers' tokens stay out of the replica file, out of `ps`, and
/// readable by the owner only.
@Suite(.timeLimit(.minutes(2))) struct SecretsTests {
    static func mode(_ url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// The bytes of a replica file and its WAL.
    static func replicaBytes(_ cli: LiaisonCLI, _ name: String) -> Data {
        ["", "-wal"].reduce(into: Data()) { bytes, suffix in
            bytes += (try? Data(contentsOf: cli.url(name + suffix))) ?? Data()
        }
    }

    static func privateKey(_ cli: LiaisonCLI, _ name: String) throws -> String {
        let keys = try Data(contentsOf: cli.url(name + ".keys"))
        let object = try #require(try JSONSerialization.jsonObject(with: keys) as? [String: Any])
        return try #require(object["privateKey"] as? String)
    }

    @Test func aNewReplicaIsPrivateAndHoldsNoSecret() async throws {
        try await withSampleReplica { cli in
            let tokenFile = cli.url("token.txt")
            try Data("nl-ma-secret-token\n".utf8).write(to: tokenFile)
            try await cli.expectSuccess(
                "peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:1", "--token-file", tokenFile.path)
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-x", "name=X")
            // The WAL and SHM files exist while a process has the replica open.
            let server = try await FaultServer.start(binary: cli.binary, database: "nl.db", in: cli.directory)
            for name in ["nl.db", "nl.db-wal", "nl.db-shm", "nl.db.keys"] {
                #expect(try Self.mode(cli.url(name)) == 0o600, "\(name) is not 0600")
            }
            await server.stop()
            let key = try Self.privateKey(cli, "nl.db")
            let bytes = Self.replicaBytes(cli, "nl.db")
            #expect(bytes.range(of: Data(key.utf8)) == nil, "the signing key is inside the replica file")
            #expect(bytes.range(of: Data("nl-ma-secret-token".utf8)) == nil, "a peer token is inside the replica file")
        }
    }

    @Test func anOldReplicaHasItsSecretsMovedOutAndScrubbedOnOpen() async throws {
        try await withSampleReplica { cli in
            try await cli.expectSuccess(
                "peer", "add", "nl.db", "MA-DGST", "http://127.0.0.1:1",
                environment: ["LIAISON_TOKEN": "old-secret-token"])
            let key = try Self.privateKey(cli, "nl.db")
            // Make it look like a replica of the earlier format: secrets inside, world-readable, no key file.
            let old = try await cli.sqlite(
                "nl.db",
                "INSERT INTO _liaison_meta VALUES ('private_key', '\(key)'); "
                    + "UPDATE _liaison_peer SET token = 'old-secret-token';")
            #expect(old.status == 0, "\(old)")
            try FileManager.default.removeItem(at: cli.url("nl.db.keys"))
            chmod(cli.url("nl.db").path, 0o644)
            #expect(Self.replicaBytes(cli, "nl.db").range(of: Data(key.utf8)) != nil)

            try await cli.expectSuccess("status", "nl.db")
            #expect(try Self.privateKey(cli, "nl.db") == key)
            #expect(try Self.mode(cli.url("nl.db.keys")) == 0o600 && Self.mode(cli.url("nl.db")) == 0o600)
            let bytes = Self.replicaBytes(cli, "nl.db")
            #expect(bytes.range(of: Data(key.utf8)) == nil, "the key is still in the replica file")
            #expect(bytes.range(of: Data("old-secret-token".utf8)) == nil, "the token is still in the replica file")
            // The identity and the token still work.
            try await cli.expectSuccess("set", "nl.db", "topic", "topic-after", "name=After")
            #expect(try await cli("verify", "nl.db").status == 0)
            let keys = try String(contentsOf: cli.url("nl.db.keys"), encoding: .utf8)
            #expect(keys.contains("old-secret-token"))
        }
    }

    @Test func aCopiedReplicaCarriesNoIdentityUntilItsKeyIsImported() async throws {
        try await withSampleReplica { cli in
            try FileManager.default.createDirectory(at: cli.url("colleague"), withIntermediateDirectories: true)
            try await cli.expectSuccess("status", "nl.db")
            try FileManager.default.copyItem(at: cli.url("nl.db"), to: cli.url("colleague/nl.db"))
            // Reading works; editing needs the key.
            try await cli.expectSuccess("get", "colleague/nl.db", "topic", "topic-ftf")
            let refused = try await cli("set", "colleague/nl.db", "topic", "topic-ftf", "name=Changed")
            #expect(refused.status == 1 && refused.stderr.contains("import-key"), "\(refused)")
            try await cli.expectSuccess("export-key", "nl.db", "--to", cli.url("nl.keys").path)
            #expect(try Self.mode(cli.url("nl.keys")) == 0o600)
            try await cli.expectSuccess("import-key", "colleague/nl.db", cli.url("nl.keys").path)
            try await cli.expectSuccess("set", "colleague/nl.db", "topic", "topic-ftf", "name=Changed")
            // Another replica's key is refused.
            try await cli.expectSuccess("init", "other.db", "--site", "TR-EGM")
            try await cli.expectSuccess("export-key", "other.db", "--to", cli.url("other.keys").path)
            let wrong = try await cli("import-key", "nl.db", cli.url("other.keys").path)
            #expect(wrong.status == 64 && wrong.stderr.contains("belongs to site"), "\(wrong)")
        }
    }

    @Test func tokensStayOutOfTheProcessList() async throws {
        try await withCLI { cli in
            let silent = try FaultSilentListener()
            let tokenFile = cli.url("token.txt")
            try Data("clone-secret-token\n".utf8).write(to: tokenFile)
            let fault = FaultCLI(binary: cli.binary, directory: cli.directory)
            for (arguments, environment) in [
                (["clone", silent.url, "ma.db", "--site", "MA-DGST", "--token-file", tokenFile.path], [:]),
                (["clone", silent.url, "tr.db", "--site", "TR-EGM"], ["LIAISON_TOKEN": "clone-secret-token"]),
            ] {
                var withEnvironment = fault
                withEnvironment.environment.merge(environment) { $1 }
                let process = try withEnvironment.start(arguments)
                var commandLine = ""
                for _ in 0..<200 where commandLine.isEmpty {
                    try await Task.sleep(for: .milliseconds(10))
                    let raw =
                        (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(process.processIdentifier)/cmdline")))
                    commandLine = raw.map { String(decoding: $0, as: UTF8.self) } ?? ""
                }
                #expect(commandLine.contains("clone"), "the process list did not show the command")
                #expect(!commandLine.contains("clone-secret-token"), "the token is in argv: \(commandLine)")
                process.kill()
                _ = await process.wait(timeout: .seconds(10))
            }
            // Without any source of a token (no terminal), the command says where to give one.
            let none = try await cli("peer", "add", "x.db", "MA-DGST", "http://127.0.0.1:1")
            #expect(none.status == 64, "\(none)")
        }
    }
}
