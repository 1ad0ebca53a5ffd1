import Foundation

// The hand-written JSON forms of the key records and key events of pages and pushes; `FastJSONTests` compares each with Foundation's.

extension SiteKeyRecord: FastWireCodable {
    static let fields = JSONFields(["introducer", "introduction", "key", "revocations", "rotations", "site"])

    package static let isFastWireComplete =
        KeyRotation.isFastWireComplete && KeyRevocation.isFastWireComplete
        && FastWire.covers(SiteKeyRecord(site: "", key: ""), fields)

    package static func read(from scanner: inout JSONScanner) throws -> SiteKeyRecord {
        var introducer: String?
        var introduction: String?
        var key: String?
        var revocations: [KeyRevocation]?
        var rotations: [KeyRotation]?
        var site: String?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: introducer = try scanner.readOptional { try $0.readString() }
            case 1: introduction = try scanner.readOptional { try $0.readString() }
            case 2: key = try scanner.readString()
            case 3: revocations = try scanner.readOptional { try [KeyRevocation].read(from: &$0) }
            case 4: rotations = try scanner.readOptional { try [KeyRotation].read(from: &$0) }
            default: site = try scanner.readString()
            }
        }
        guard let key, let site else { throw scanner.missing("key or site", in: Self.self) }
        return SiteKeyRecord(
            site: site, key: key, introducer: introducer, introduction: introduction, rotations: rotations,
            revocations: revocations)
    }

    package func write(to writer: inout JSONWriter) throws {
        writer.byte(UInt8(ascii: "{"))
        if let introducer {
            writer.raw("\"introducer\":")
            writer.string(introducer)
            writer.byte(UInt8(ascii: ","))
        }
        if let introduction {
            writer.raw("\"introduction\":")
            writer.string(introduction)
            writer.byte(UInt8(ascii: ","))
        }
        writer.raw("\"key\":")
        writer.string(key)
        if let revocations {
            writer.raw(",\"revocations\":")
            try revocations.write(to: &writer)
        }
        if let rotations {
            writer.raw(",\"rotations\":")
            try rotations.write(to: &writer)
        }
        writer.raw(",\"site\":")
        writer.string(site)
        writer.byte(UInt8(ascii: "}"))
    }
}

extension KeyRotation: FastWireCodable {
    static let fields = JSONFields(["fromSeq", "introducer", "key", "previous", "signature"])

    package static let isFastWireComplete = FastWire.covers(
        KeyRotation(fromSeq: 0, key: "", previous: "", signature: ""), fields)

    package static func read(from scanner: inout JSONScanner) throws -> KeyRotation {
        var fromSeq: Int64?
        var introducer: String?
        var key: String?
        var previous: String?
        var signature: String?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: fromSeq = try scanner.readInt64()
            case 1: introducer = try scanner.readOptional { try $0.readString() }
            case 2: key = try scanner.readString()
            case 3: previous = try scanner.readString()
            default: signature = try scanner.readString()
            }
        }
        guard let fromSeq, let key, let previous, let signature else {
            throw scanner.missing("fromSeq, key, previous or signature", in: Self.self)
        }
        return KeyRotation(fromSeq: fromSeq, key: key, previous: previous, signature: signature, introducer: introducer)
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"fromSeq\":")
        writer.integer(fromSeq)
        if let introducer {
            writer.raw(",\"introducer\":")
            writer.string(introducer)
        }
        writer.raw(",\"key\":")
        writer.string(key)
        writer.raw(",\"previous\":")
        writer.string(previous)
        writer.raw(",\"signature\":")
        writer.string(signature)
        writer.byte(UInt8(ascii: "}"))
    }
}

extension KeyRevocation: FastWireCodable {
    static let fields = JSONFields(["by", "key", "signature", "signer", "since"])

    package static let isFastWireComplete = FastWire.covers(
        KeyRevocation(key: "", since: 0, by: "", signer: "", signature: ""), fields)

    package static func read(from scanner: inout JSONScanner) throws -> KeyRevocation {
        var by: String?
        var key: String?
        var signature: String?
        var signer: String?
        var since: Int64?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: by = try scanner.readString()
            case 1: key = try scanner.readString()
            case 2: signature = try scanner.readString()
            case 3: signer = try scanner.readString()
            default: since = try scanner.readInt64()
            }
        }
        guard let by, let key, let signature, let signer, let since else {
            throw scanner.missing("by, key, signature, signer or since", in: Self.self)
        }
        return KeyRevocation(key: key, since: since, by: by, signer: signer, signature: signature)
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"by\":")
        writer.string(by)
        writer.raw(",\"key\":")
        writer.string(key)
        writer.raw(",\"signature\":")
        writer.string(signature)
        writer.raw(",\"signer\":")
        writer.string(signer)
        writer.raw(",\"since\":")
        writer.integer(since)
        writer.byte(UInt8(ascii: "}"))
    }
}
