import Foundation

// The hand-written JSON forms of the pull and push messages (see `FastWire+Records.swift`).

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

extension WantedTransaction: FastWireCodable {
    static let fields = JSONFields(["missing", "origin", "seq"])

    package static let isFastWireComplete = FastWire.covers(WantedTransaction(origin: "", seq: 0), fields)

    package static func read(from scanner: inout JSONScanner) throws -> WantedTransaction {
        var missing: [Int]?
        var origin: String?
        var seq: Int64?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: missing = try scanner.readOptional { try [Int].read(from: &$0) }
            case 1: origin = try scanner.readString()
            default: seq = try scanner.readInt64()
            }
        }
        guard let origin, let seq else { throw scanner.missing("origin or seq", in: Self.self) }
        return WantedTransaction(origin: origin, seq: seq, missing: missing)
    }

    package func write(to writer: inout JSONWriter) throws {
        writer.byte(UInt8(ascii: "{"))
        if let missing {
            writer.raw("\"missing\":")
            try missing.write(to: &writer)
            writer.byte(UInt8(ascii: ","))
        }
        writer.raw("\"origin\":")
        writer.string(origin)
        writer.raw(",\"seq\":")
        writer.integer(seq)
        writer.byte(UInt8(ascii: "}"))
    }
}

extension SiteHead: FastWireCodable {
    static let fields = JSONFields(["digest", "seq"])

    package static let isFastWireComplete = FastWire.covers(SiteHead(seq: 0, digest: ""), fields)

    package static func read(from scanner: inout JSONScanner) throws -> SiteHead {
        var digest: String?
        var seq: Int64?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: digest = try scanner.readString()
            default: seq = try scanner.readInt64()
            }
        }
        guard let digest, let seq else { throw scanner.missing("digest or seq", in: Self.self) }
        return SiteHead(seq: seq, digest: digest)
    }

    package func write(to writer: inout JSONWriter) {
        writer.raw("{\"digest\":")
        writer.string(digest)
        writer.raw(",\"seq\":")
        writer.integer(seq)
        writer.byte(UInt8(ascii: "}"))
    }
}

extension PullRequest: FastWireCodable {
    static let fields = JSONFields(["cursor", "heads", "held", "limit", "protocolVersion", "vector", "wanted"])

    package static let isFastWireComplete =
        WantedTransaction.isFastWireComplete && SiteHead.isFastWireComplete && HeldTransaction.isFastWireComplete
        && FastWire.covers(PullRequest(cursor: nil, vector: VersionVector()), fields)

    package static func read(from scanner: inout JSONScanner) throws -> PullRequest {
        var cursor: String?
        var heads: [String: SiteHead]?
        var held: [HeldTransaction]?
        var limit: Int?
        var protocolVersion: Int?
        var vector: VersionVector?
        var wanted: [WantedTransaction]?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: cursor = try scanner.readOptional { try $0.readString() }
            case 1: heads = try scanner.readOptional { try [String: SiteHead].read(from: &$0) }
            case 2: held = try scanner.readOptional { try [HeldTransaction].read(from: &$0) }
            case 3: limit = try scanner.readOptional { try $0.readInt() }
            case 4: protocolVersion = try scanner.readInt()
            case 5: vector = try VersionVector.read(from: &scanner)
            default: wanted = try scanner.readOptional { try [WantedTransaction].read(from: &$0) }
            }
        }
        guard let protocolVersion, let vector else { throw scanner.missing("a required key", in: Self.self) }
        return PullRequest(
            protocolVersion: protocolVersion, cursor: cursor, vector: vector, limit: limit, wanted: wanted,
            heads: heads, held: held)
    }

    package func write(to writer: inout JSONWriter) throws {
        var first = true
        writer.byte(UInt8(ascii: "{"))
        if let cursor {
            writer.key("\"cursor\":", first: &first)
            writer.string(cursor)
        }
        if let heads {
            writer.key("\"heads\":", first: &first)
            try heads.write(to: &writer)
        }
        if let held {
            writer.key("\"held\":", first: &first)
            try held.write(to: &writer)
        }
        if let limit {
            writer.key("\"limit\":", first: &first)
            writer.integer(limit)
        }
        writer.key("\"protocolVersion\":", first: &first)
        writer.integer(protocolVersion)
        writer.key("\"vector\":", first: &first)
        vector.write(to: &writer)
        if let wanted {
            writer.key("\"wanted\":", first: &first)
            try wanted.write(to: &writer)
        }
        writer.byte(UInt8(ascii: "}"))
    }
}

extension PullResponse: FastWireCodable {
    static let fields = JSONFields(["cursor", "hasMore", "held", "keys", "protocolVersion", "transactions"])

    package static let isFastWireComplete =
        TransactionRecord.isFastWireComplete && SiteKeyRecord.isFastWireComplete && HeldTransaction.isFastWireComplete
        && FastWire.covers(PullResponse(transactions: [], cursor: "", hasMore: false), fields)

    package static func read(from scanner: inout JSONScanner) throws -> PullResponse {
        var cursor: String?
        var hasMore: Bool?
        var held: [HeldTransaction]?
        var keys: [String: SiteKeyRecord]?
        var protocolVersion: Int?
        var transactions: [TransactionRecord]?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: cursor = try scanner.readString()
            case 1: hasMore = try scanner.readBool()
            case 2: held = try scanner.readOptional { try [HeldTransaction].read(from: &$0) }
            case 3: keys = try scanner.readOptional { try [String: SiteKeyRecord].read(from: &$0) }
            case 4: protocolVersion = try scanner.readInt()
            default: transactions = try [TransactionRecord].read(from: &scanner)
            }
        }
        guard let cursor, let hasMore, let protocolVersion, let transactions else {
            throw scanner.missing("a required key", in: Self.self)
        }
        return PullResponse(
            protocolVersion: protocolVersion, transactions: transactions, cursor: cursor, hasMore: hasMore, keys: keys,
            held: held)
    }

    package func write(to writer: inout JSONWriter) throws {
        var first = true
        writer.byte(UInt8(ascii: "{"))
        writer.key("\"cursor\":", first: &first)
        writer.string(cursor)
        writer.key("\"hasMore\":", first: &first)
        writer.bool(hasMore)
        if let held {
            writer.key("\"held\":", first: &first)
            try held.write(to: &writer)
        }
        if let keys {
            writer.key("\"keys\":", first: &first)
            try keys.write(to: &writer)
        }
        writer.key("\"protocolVersion\":", first: &first)
        writer.integer(protocolVersion)
        writer.key("\"transactions\":", first: &first)
        try transactions.write(to: &writer)
        writer.byte(UInt8(ascii: "}"))
    }
}

extension PushRequest: FastWireCodable {
    static let fields = JSONFields(["keys", "protocolVersion", "transactions"])

    package static let isFastWireComplete =
        TransactionRecord.isFastWireComplete && SiteKeyRecord.isFastWireComplete
        && FastWire.covers(PushRequest(transactions: []), fields)

    package static func read(from scanner: inout JSONScanner) throws -> PushRequest {
        var keys: [String: SiteKeyRecord]?
        var protocolVersion: Int?
        var transactions: [TransactionRecord]?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: keys = try scanner.readOptional { try [String: SiteKeyRecord].read(from: &$0) }
            case 1: protocolVersion = try scanner.readInt()
            default: transactions = try [TransactionRecord].read(from: &scanner)
            }
        }
        guard let protocolVersion, let transactions else { throw scanner.missing("a required key", in: Self.self) }
        return PushRequest(protocolVersion: protocolVersion, transactions: transactions, keys: keys)
    }

    package func write(to writer: inout JSONWriter) throws {
        var first = true
        writer.byte(UInt8(ascii: "{"))
        if let keys {
            writer.key("\"keys\":", first: &first)
            try keys.write(to: &writer)
        }
        writer.key("\"protocolVersion\":", first: &first)
        writer.integer(protocolVersion)
        writer.key("\"transactions\":", first: &first)
        try transactions.write(to: &writer)
        writer.byte(UInt8(ascii: "}"))
    }
}

extension PushResponse: FastWireCodable {
    static let fields = JSONFields(["applied", "held", "protocolVersion", "skipped", "staged", "vector"])

    package static let isFastWireComplete =
        HeldTransaction.isFastWireComplete
        && FastWire.covers(PushResponse(applied: 0, skipped: 0, vector: VersionVector()), fields)

    package static func read(from scanner: inout JSONScanner) throws -> PushResponse {
        var applied: Int?
        var held: [HeldTransaction]?
        var protocolVersion: Int?
        var skipped: Int?
        var staged: Int?
        var vector: VersionVector?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: applied = try scanner.readInt()
            case 1: held = try scanner.readOptional { try [HeldTransaction].read(from: &$0) }
            case 2: protocolVersion = try scanner.readInt()
            case 3: skipped = try scanner.readInt()
            case 4: staged = try scanner.readInt()
            default: vector = try VersionVector.read(from: &scanner)
            }
        }
        guard let applied, let protocolVersion, let skipped, let staged, let vector else {
            throw scanner.missing("a required key", in: Self.self)
        }
        return PushResponse(
            protocolVersion: protocolVersion, applied: applied, skipped: skipped, staged: staged, vector: vector,
            held: held)
    }

    package func write(to writer: inout JSONWriter) throws {
        writer.raw("{\"applied\":")
        writer.integer(applied)
        if let held {
            writer.raw(",\"held\":")
            try held.write(to: &writer)
        }
        writer.raw(",\"protocolVersion\":")
        writer.integer(protocolVersion)
        writer.raw(",\"skipped\":")
        writer.integer(skipped)
        writer.raw(",\"staged\":")
        writer.integer(staged)
        writer.raw(",\"vector\":")
        vector.write(to: &writer)
        writer.byte(UInt8(ascii: "}"))
    }
}
