import Foundation

/// W5, scale: a clone of 10,000, 100,000 and 1,000,000 row changes A → B over HTTP (transactions of
/// 10,000 rows), each from a fresh A, so the time per change at each size shows whether it stays
/// flat; the peak RSS of the server and of the cloning client is each process's own.
enum W5 {
    static func run(directory: String, liaison: String, largest: Int) async throws -> [String: Double] {
        var result: [String: Double] = ["w5_largest": Double(largest)]
        var size = 10_000
        while size <= largest {
            let folder = directory + "/w5-\(size)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let figures = try await W2.run(
                directory: folder, liaison: liaison, rows: size, batch: min(size, 10_000), updates: 0)
            for (key, value) in figures where key.hasPrefix("w2a_") {
                result["w5_\(size)_" + key.dropFirst(4)] = value
            }
            try? FileManager.default.removeItem(atPath: folder)
            FileHandle.standardError.write(
                Data("W5 \(size) rows: \(figures["w2a_seconds"] ?? 0) s, equal \(figures["w2a_equal"] ?? 0)\n".utf8))
            size *= 10
        }
        return result
    }
}
