import ArgumentParser
import Liaison

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check every signature and each origin's hash chain in the whole log.")

    @OptionGroup var replica: ReplicaArgument
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLI.run(json: json) {
            let report = try CLI.open(replica.database).verify()
            if json {
                try CLI.printJSON(report)
            } else {
                print(
                    "checked \(report.transactions) transactions, \(report.changes) changes (\(report.withheld) withheld)"
                        + (report.removed > 0
                            ? "; \(report.removed) transactions removed by compaction, their chain heads signed" : "")
                )
                for problem in report.problems { print("PROBLEM \(problem)") }
                print(
                    report.isIntact
                        ? "the log is intact" : "the log was tampered with: \(report.problems.count) problems")
            }
            if !report.isIntact { throw ExitCode(1) }
        }
    }
}
