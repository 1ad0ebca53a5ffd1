import CSQLite
import Foundation

/// The SQL functions of bulk publishing, registered on every connection and answering only while a
/// publish run has opened them (`ChangeWriter+PlainInserts`, `ChangeWriter+PlainUpdates`):
/// - `liaison_publish_seq(n)`: the `seq` of the transaction that journal row `n` belongs to;
/// - `liaison_publish_insert(n, pk, scope, column…)`: the digest of a row's insert change;
/// - `liaison_publish_update(n, pk, scope, mask, column…)`: the digest of an update of the columns
///   in `mask`, naming the bases the run computed for `n`;
/// - `liaison_publish_bases(n)`: those bases (NULL when none);
/// - `liaison_publish_values(mask, column…)`: the JSON object of a row's columns in `mask`
///   (`ChangeValues.keepPrior`).
///
/// Each digest is recorded for its transaction's root.
final class PublishFunctions {
    struct Run {
        /// Journal id of each transaction's last row, with its `seq`, in journal order.
        var markers: [(id: Int64, seq: Int64)]
        var table: String
        var json: RowJSON
        /// The bases every insert names.
        var bases: [UInt8]?
        /// The columns every insert writes.
        var mask: Int64
        /// The number of arguments of the digest function: its fixed ones and every column.
        var arguments: Int32
        /// The bases of each update, by journal id (absent: none).
        var basesByRow: [Int64: [UInt8]] = [:]
    }

    private var run: Run?
    private var writer = ChangeDigest.Writer(table: "")
    private var buffer: [UInt8] = []
    /// The changes digested since `open`, by `seq` and `n` (`RunDigests`: 40 bytes a change).
    private(set) var collected = RunDigests()

    func open(_ run: Run) {
        self.run = run
        writer = ChangeDigest.Writer(table: run.table)
        collected = RunDigests()
    }

    func close() {
        run = nil
        collected = RunDigests()
    }

    /// The `seq` of the transaction whose last journal row is the first at or after `n`.
    private func sequence(_ run: Run, of n: Int64) -> Int64? {
        var low = 0
        var high = run.markers.count
        while low < high {
            let middle = (low + high) / 2
            if run.markers[middle].id < n { low = middle + 1 } else { high = middle }
        }
        return low < run.markers.count ? run.markers[low].seq : nil
    }

    fileprivate func seq(_ context: OpaquePointer, _ arguments: UnsafeMutablePointer<OpaquePointer?>) {
        guard let run, let seq = sequence(run, of: sqlite3_value_int64(arguments[0])) else {
            sqlite3_result_error(context, "liaison: liaison_publish_seq runs only while publishing", -1)
            return
        }
        sqlite3_result_int64(context, seq)
    }

    fileprivate func bases(_ context: OpaquePointer, _ arguments: UnsafeMutablePointer<OpaquePointer?>) {
        guard let run else {
            sqlite3_result_error(context, "liaison: liaison_publish_bases runs only while publishing", -1)
            return
        }
        guard let bases = run.basesByRow[sqlite3_value_int64(arguments[0])] else {
            sqlite3_result_null(context)
            return
        }
        bases.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                sqlite3_result_text(context, $0, Int32(buffer.count), sqliteTransient)
            }
        }
    }

    /// The digest of an insert (`update` false: arguments n, pk, scope, columns) or of an update
    /// (arguments n, pk, scope, mask, columns).
    fileprivate func digest(
        _ context: OpaquePointer, _ count: Int32, _ arguments: UnsafeMutablePointer<OpaquePointer?>, update: Bool
    ) {
        let n = sqlite3_value_int64(arguments[0])
        let fixed = update ? 4 : 3
        guard let run, count == run.arguments, let seq = sequence(run, of: n),
            let pk = sqlite3_value_text(arguments[1]), let scope = sqlite3_value_text(arguments[2])
        else {
            sqlite3_result_error(context, "liaison: liaison_publish_insert/update runs only while publishing", -1)
            return
        }
        let mask = update ? sqlite3_value_int64(arguments[3]) : run.mask
        let digest = Self.text(pk, Int(sqlite3_value_bytes(arguments[1]))) { pk in
            Self.text(scope, Int(sqlite3_value_bytes(arguments[2]))) { scope in
                writer.hex(
                    id: pk, op: (update ? ChangeRecord.Operation.update : .insert).rawValue, scope: scope, levels: nil,
                    bases: update ? run.basesByRow[n] : run.bases,
                    values: { run.json.append(values: arguments + fixed, mask: mask, to: &$0) })
            }
        }
        collected.append(seq: seq, n: n, hex: digest)
        digest.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                sqlite3_result_text(context, $0, Int32(buffer.count), sqliteTransient)
            }
        }
    }

    /// The JSON object of the columns in the mask (argument 0) of a row (the other arguments).
    fileprivate func values(_ context: OpaquePointer, _ count: Int32, _ arguments: UnsafeMutablePointer<OpaquePointer?>)
    {
        guard let run, count == run.arguments else {
            sqlite3_result_error(context, "liaison: liaison_publish_values runs only while publishing", -1)
            return
        }
        buffer.removeAll(keepingCapacity: true)
        run.json.append(values: arguments + 1, mask: sqlite3_value_int64(arguments[0]), to: &buffer)
        buffer.withUnsafeBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_result_text(context, $0, Int32(bytes.count), sqliteTransient)
            }
        }
    }

    /// The bytes of a text argument as the engine reads text (`String`): ASCII as it is, anything
    /// else through `String`, which replaces bytes that are not UTF-8 as every other reader does.
    private static func text<T>(
        _ bytes: UnsafePointer<UInt8>, _ count: Int, _ body: (UnsafeBufferPointer<UInt8>) -> T
    ) -> T {
        let buffer = UnsafeBufferPointer(start: bytes, count: count)
        if !buffer.contains(where: { $0 >= 0x80 }) { return body(buffer) }
        var text = String(decoding: buffer, as: UTF8.self)
        return text.withUTF8 { body($0) }
    }

    /// Registers the functions on a connection.
    static func register(on handle: OpaquePointer) -> PublishFunctions {
        let functions = PublishFunctions()
        let data = Unmanaged.passUnretained(functions).toOpaque()
        sqlite3_create_function_v2(
            handle, "liaison_publish_seq", 1, SQLITE_UTF8, data,
            { context, _, arguments in
                guard let context, let arguments, let data = sqlite3_user_data(context) else { return }
                Unmanaged<PublishFunctions>.fromOpaque(data).takeUnretainedValue().seq(context, arguments)
            }, nil, nil, nil)
        sqlite3_create_function_v2(
            handle, "liaison_publish_insert", -1, SQLITE_UTF8, data,
            { context, count, arguments in
                guard let context, let arguments, let data = sqlite3_user_data(context) else { return }
                Unmanaged<PublishFunctions>.fromOpaque(data).takeUnretainedValue().digest(
                    context, count, arguments, update: false)
            }, nil, nil, nil)
        sqlite3_create_function_v2(
            handle, "liaison_publish_update", -1, SQLITE_UTF8, data,
            { context, count, arguments in
                guard let context, let arguments, let data = sqlite3_user_data(context) else { return }
                Unmanaged<PublishFunctions>.fromOpaque(data).takeUnretainedValue().digest(
                    context, count, arguments, update: true)
            }, nil, nil, nil)
        sqlite3_create_function_v2(
            handle, "liaison_publish_values", -1, SQLITE_UTF8, data,
            { context, count, arguments in
                guard let context, let arguments, let data = sqlite3_user_data(context) else { return }
                Unmanaged<PublishFunctions>.fromOpaque(data).takeUnretainedValue().values(context, count, arguments)
            }, nil, nil, nil)
        sqlite3_create_function_v2(
            handle, "liaison_publish_bases", 1, SQLITE_UTF8, data,
            { context, _, arguments in
                guard let context, let arguments, let data = sqlite3_user_data(context) else { return }
                Unmanaged<PublishFunctions>.fromOpaque(data).takeUnretainedValue().bases(context, arguments)
            }, nil, nil, nil)
        return functions
    }
}
