import ArgumentParser
import Foundation
import Liaison

/// `liaison bundle`: signed change bundles for peers reached only by carrying a file.
struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: "Move changes to a peer as a signed file (removable disk, one-way gateway).",
        subcommands: [
            BundleCreateCommand.self, BundleVerifyCommand.self, BundleImportCommand.self, BundleKeyCommand.self,
        ])
}

struct BundleCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract:
            "Write the transactions a peer lacks, filtered to its read grant, signed (and sealed when its key is known)."
    )

    @OptionGroup var replica: ReplicaArgument
    @Option(name: .customLong("for"), help: "The registered peer the bundle is for.") var peer: String
    @Option(help: "The bundle file to write.") var out: String
    @Option(help: "What the peer holds, CODE=SEQ,... or none (default: its last acknowledgement).") var since: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let replica = try CLI.open(replica.database)
            let since = try self.since.map { try replica.versionVector(parsing: $0) }
            let (data, summary) = try replica.makeBundle(for: peer, since: since)
            try BundleFiles.write(data, to: out)
            if json { return try CLI.printJSON(summary) }
            print(
                "wrote \(out) for \(peer): \(summary.transactions) transactions, \(summary.changes) changes, "
                    + "\(summary.bytes) bytes, \(summary.sealed ? "sealed to \(peer)'s key" : "signed, not sealed")")
            let base = try replica.describe(summary.since)
            print(
                summary.sinceAcknowledged
                    ? "since \(peer)'s acknowledgement (\(base))"
                    : since == nil
                        ? "since nothing: no acknowledgement from \(peer) yet (use --since to send less)"
                        : "since \(base)")
            if !summary.sealed {
                print(
                    "not sealed: \(peer)'s sealing key arrives with its acknowledgement bundle, or set it with 'liaison bundle key'"
                )
            }
        }
    }
}

struct BundleVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a bundle against a replica without changing it: signatures, prerequisites, a dry run.")

    @Argument(help: "The bundle file.") var file: String
    @Option(name: .customLong("db"), help: "The replica that would import it.") var database: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let report = try CLI.open(database).importBundle(try BundleFiles.read(file), dryRun: true)
            try BundleFiles.show(report, json: json)
            if !report.missing.isEmpty { throw ExitCode(1) }
        }
    }
}

struct BundleImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract:
            "Apply a bundle as a push from its sender would be (its write grant, quarantine); importing twice changes nothing."
    )

    @OptionGroup var replica: ReplicaArgument
    @Argument(help: "The bundle file.") var file: String
    @Option(help: "Also write an acknowledgement bundle for the sender (the way back).") var ackOut: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let replica = try CLI.open(replica.database)
            let report = try replica.importBundle(try BundleFiles.read(file))
            try BundleFiles.show(report, json: json)
            if let ackOut, report.kind == .changes {
                let (data, summary) = try replica.makeAcknowledgementBundle(for: report.peer, answering: report.id)
                try BundleFiles.write(data, to: ackOut)
                if !json {
                    print("wrote acknowledgement \(ackOut) for \(report.peer)\(summary.sealed ? " (sealed)" : "")")
                }
            }
            if !report.missing.isEmpty { throw ExitCode(1) }
        }
    }
}

struct BundleKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Print this replica's sealing key, or record a peer's (read from its 'liaison bundle key').")

    @OptionGroup var replica: ReplicaArgument
    @Option(help: "The peer whose sealing key to record.") var peer: String?
    @Argument(help: "The peer's sealing key (base64), with --peer.") var key: String?

    func validate() throws {
        if (peer == nil) != (key == nil) { throw ValidationError("--peer and KEY go together") }
    }

    func run() async throws {
        try await CLI.run {
            let replica = try CLI.open(replica.database)
            if let peer, let key {
                try replica.setSealingKey(key, of: peer)
                print("bundles for \(peer) will be sealed to \(key)")
            } else {
                print(try replica.sealingKey())
            }
        }
    }
}

/// Reading, writing and reporting bundle files for the commands.
enum BundleFiles {
    static func read(_ path: String) throws -> Data {
        // A hostile file may be huge: refuse it before reading it into memory.
        let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int ?? 0
        guard size <= Replica.maxBundleBytes else {
            throw LiaisonError(
                .invalidInput, "the bundle was refused: '\(path)' is larger than \(Replica.maxBundleBytes >> 20) MiB")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LiaisonError(.invalidInput, "cannot read the bundle file '\(path)'")
        }
        return data
    }

    /// Writes atomically: a cut write never leaves half a bundle under the name.
    static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw LiaisonError(.invalidInput, "cannot write '\(path)': \(error.localizedDescription)")
        }
    }

    static func show(_ report: BundleImportReport, json: Bool) throws {
        if json { return try CLI.printJSON(report) }
        let verb = report.dryRun ? "would import" : "imported"
        if report.kind == .acknowledgement {
            print(
                report.dryRun
                    ? "acknowledgement bundle \(report.id) from \(report.sender): signature valid"
                    : "acknowledgement from \(report.sender) "
                        + (report.acknowledgementRecorded ? "recorded" : "older than the one held: nothing changed"))
        } else if !report.missing.isEmpty {
            print(
                "bundle \(report.id) from \(report.sender) builds on transactions this replica lacks: "
                    + report.missing.joined(separator: ", ") + "; import the bundle made before it first, or ask "
                    + "\(report.sender) for one made with --since; nothing was applied")
        } else {
            print(
                "\(verb) bundle \(report.id) from \(report.sender)\(report.sealed ? " (sealed)" : ""): "
                    + "\(report.transactions) transactions, \(report.applied) applied, \(report.skipped) already here, "
                    + "\(report.held) held")
        }
        if let before = report.importedBefore { print("imported here before, at \(before)") }
        for held in report.heldHere { print("held here \(TerminalText.describe(held))") }
        for held in report.heldThere { print("held at \(report.sender) \(TerminalText.describe(held))") }
    }
}
