import Foundation

/// The header of one transaction that follows a transaction left unsigned by its origin, as a
/// chain proof carries it: everything its signed bytes hold but the origin (the record's) and the
/// hash-chain link (the digest of the header before, which the receiver computes).
///
/// An origin signs the last transaction of each publish run and every 64th of its sequence
/// (`ChainProof.checkpointInterval`); the others are covered by the signature of a later one
/// through the hash links (`previous`) of the headers in between. A record whose covering
/// signature is not in the same page carries that run of headers as its `proof`, and the last of
/// them carries the signature (docs/PROTOCOL.md, "Signed runs").
public struct ChainHeader: Hashable, Sendable, Codable {
    public var seq: Int64
    public var hlc: HybridTimestamp
    public var author: String
    public var context: VersionVector
    public var resolves: [String]?
    public var total: Int
    /// The root of the transaction's change digests (hex SHA-256).
    public var root: String
    /// The origin's Ed25519 signature over this header (base64): present on the last header only.
    public var signature: String?

    public init(
        seq: Int64, hlc: HybridTimestamp, author: String, context: VersionVector, resolves: [String]? = nil,
        total: Int, root: String, signature: String? = nil
    ) {
        self.seq = seq
        self.hlc = hlc
        self.author = author
        self.context = context
        self.resolves = resolves
        self.total = total
        self.root = root
        self.signature = signature
    }
}

/// Constants of signed runs shared by writers and readers.
public enum ChainProof {
    /// An origin signs every transaction whose `seq` is a multiple of this, and the last of each
    /// publish run: a proof is never longer than this many headers.
    public static let checkpointInterval: Int64 = 64

    /// Whether an origin signs transaction `seq` of a publish run that ends at `last`.
    public static func isSigned(seq: Int64, last: Int64) -> Bool {
        seq == last || seq % checkpointInterval == 0
    }
}

extension ChainHeader: FastWireCodable {
    static let fields = JSONFields(["author", "context", "hlc", "resolves", "root", "seq", "signature", "total"])

    package static let isFastWireComplete = FastWire.covers(
        ChainHeader(seq: 0, hlc: .zero, author: "", context: VersionVector(), total: 0, root: ""), fields)

    package static func read(from scanner: inout JSONScanner) throws -> ChainHeader {
        var author: String?
        var context: VersionVector?
        var hlc: HybridTimestamp?
        var resolves: [String]?
        var root: String?
        var seq: Int64?
        var signature: String?
        var total: Int?
        try scanner.readFields(fields) { scanner, field in
            switch field {
            case 0: author = try scanner.readString()
            case 1: context = try VersionVector.read(from: &scanner)
            case 2: hlc = try HybridTimestamp.read(from: &scanner)
            case 3: resolves = try scanner.readOptional { try [String].read(from: &$0) }
            case 4: root = try scanner.readString()
            case 5: seq = try scanner.readInt64()
            case 6: signature = try scanner.readOptional { try $0.readString() }
            default: total = try scanner.readInt()
            }
        }
        guard let author, let context, let hlc, let root, let seq, let total else {
            throw scanner.missing("author, context, hlc, root, seq or total", in: Self.self)
        }
        return ChainHeader(
            seq: seq, hlc: hlc, author: author, context: context, resolves: resolves, total: total, root: root,
            signature: signature)
    }

    package func write(to writer: inout JSONWriter) throws {
        writer.raw("{\"author\":")
        writer.string(author)
        writer.raw(",\"context\":")
        context.write(to: &writer)
        writer.raw(",\"hlc\":")
        writer.integer(hlc.rawValue)
        if let resolves {
            writer.raw(",\"resolves\":")
            try resolves.write(to: &writer)
        }
        writer.raw(",\"root\":")
        writer.string(root)
        writer.raw(",\"seq\":")
        writer.integer(seq)
        if let signature {
            writer.raw(",\"signature\":")
            writer.string(signature)
        }
        writer.raw(",\"total\":")
        writer.integer(total)
        writer.byte(UInt8(ascii: "}"))
    }
}
