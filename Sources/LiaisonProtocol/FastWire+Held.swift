import Foundation

// The hand-written JSON form of `HeldTransaction` (see `FastWire+Messages.swift`).

extension HeldTransaction: FastWireCodable {
    static let fields = JSONFields(["error", "message", "origin", "seq", "site", "waitsFor"])

    package static let isFastWireComplete = FastWire.covers(
        HeldTransaction(origin: "", site: "", seq: 0, error: "", message: ""), fields)

    package static func read(from scanner: inout JSONScanner) throws -> HeldTransaction {
        var error: String?
        var message: String?
        var origin: String?
        var seq: Int64?
        var site: String?
        var waitsFor: String?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: error = try scanner.readString()
            case 1: message = try scanner.readString()
            case 2: origin = try scanner.readString()
            case 3: seq = try scanner.readInt64()
            case 4: site = try scanner.readString()
            default: waitsFor = try scanner.readOptional { try $0.readString() }
            }
        }
        guard let error, let message, let origin, let seq, let site else {
            throw scanner.missing("a required key", in: Self.self)
        }
        return HeldTransaction(
            origin: origin, site: site, seq: seq, error: error, message: message, waitsFor: waitsFor)
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"error\":")
        writer.string(error)
        writer.raw(",\"message\":")
        writer.string(message)
        writer.raw(",\"origin\":")
        writer.string(origin)
        writer.raw(",\"seq\":")
        writer.integer(seq)
        writer.raw(",\"site\":")
        writer.string(site)
        if let waitsFor {
            writer.raw(",\"waitsFor\":")
            writer.string(waitsFor)
        }
        writer.byte(UInt8(ascii: "}"))
    }
}
