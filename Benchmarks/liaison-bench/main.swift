import Foundation

// liaison-bench WORKLOAD DIR [options]: runs one workload in this fresh process and prints its
// figures as one JSON object. Scripts/bench runs each three times and reports medians.
let arguments = CommandLine.arguments
func argument(_ index: Int, _ fallback: String) -> String { arguments.count > index ? arguments[index] : fallback }
let liaison = ProcessInfo.processInfo.environment["LIAISON_BIN"] ?? "liaison"

do {
    let figures: [String: Double]
    switch argument(1, "") {
    case "prepare":
        try Prepare.run(
            path: argument(2, "a.db"), rows: Int(argument(3, "100000"))!, batch: Int(argument(4, "100000"))!)
        exit(0)
    case "w1":
        figures = try W1.run(directory: argument(2, "."), rowCount: Int(argument(3, "100000"))!)
    case "w2":
        figures = try await W2.run(
            directory: argument(2, "."), liaison: liaison, rows: Int(argument(3, "100000"))!,
            batch: Int(argument(3, "100000"))!, updates: 10_000)
    case "w3":
        figures = try await W3.run(directory: argument(2, "."), liaison: liaison, rows: Int(argument(3, "100000"))!)
    case "w8":
        figures = try await SnapshotClone.run(
            directory: argument(2, "."), liaison: liaison, rows: Int(argument(3, "100000"))!,
            batch: Int(argument(4, argument(3, "100000")))!)
    case "client" where argument(2, "") == "snapshot":
        figures = try await SnapshotClone.cloning(url: argument(3, ""), path: argument(4, "b.db"))
    case "client":
        figures =
            argument(2, "") == "clone"
            ? try await Client.cloning(
                url: argument(3, ""), path: argument(4, "b.db"), token: argument(5, Prepare.token))
            : try await Client.syncing(path: argument(3, "b.db"))
    case "w7":
        figures = try await W7.run(directory: argument(2, "."), liaison: liaison, rows: Int(argument(3, "10000"))!)
    case "local":
        figures = try Local.run(directory: argument(2, "."), updates: Int(argument(3, "10000"))!)
    case "trust":
        figures = Trust.run(transactions: Int(argument(3, "20000"))!)
    case "w6":
        figures = try await W6.run(directory: argument(2, "."), liaison: liaison, edits: Int(argument(3, "1000"))!)
    case "w5":
        figures = try await W5.run(directory: argument(2, "."), liaison: liaison, largest: Int(argument(3, "1000000"))!)
    default:
        FileHandle.standardError.write(
            Data(
                "usage: liaison-bench w1|w2|w3|w5|w6|w7|trust|local DIR [ROWS] | w8 DIR [ROWS [BATCH]] | client clone|snapshot URL PATH | client sync PATH\n"
                    .utf8))
        exit(64)
    }
    let json = try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("liaison-bench: \(error)\n".utf8))
    exit(1)
}
