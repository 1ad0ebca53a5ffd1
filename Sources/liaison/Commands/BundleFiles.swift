import Foundation
import Liaison

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
