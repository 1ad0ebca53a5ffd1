import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import Liaison
import Logging
import NIOCore

/// The `/v1` endpoints: status, schema, pull and push.
struct SyncController {
    let replica: Replica
    let configuration: ServerConfiguration

    func register(on group: RouterGroup<PeerRequestContext>) {
        group.get("status") { request, context in try await status(request, context) }
        group.get("schema") { request, context in try json(replica.schema, for: request, context) }
        group.post("pull") { request, context in try await pull(request, context, peer: try authenticated(context)) }
        group.post("push") { request, context in try await push(request, context, peer: try authenticated(context)) }
        group.post("ack") { request, context in
            try await acknowledge(request, context, peer: try authenticated(context))
        }
        group.post("snapshot") { request, context in
            try await snapshot(request, context, peer: try authenticated(context))
        }
        group.post("snapshot-page") { request, context in
            try await snapshotPage(request, context, peer: try authenticated(context))
        }
    }

    func status(_ request: Request, _ context: PeerRequestContext) async throws -> Response {
        let (vector, heads, identity, rotations) = try await replica.perform {
            (try $0.versionVector(), try $0.heads(), try $0.currentIdentity(), try $0.keyRotations())
        }
        return try json(
            StatusResponse(
                siteID: replica.siteID, site: replica.siteCode.rawValue, schema: replica.schema.name,
                schemaVersion: replica.schema.version, vector: vector, publicKey: identity.publicKey, heads: heads,
                rotations: rotations.isEmpty ? nil : rotations, schemaHash: replica.schema.hash,
                forms: [PackedPage.form]),
            for: request, context)
    }

    func authenticated(_ context: PeerRequestContext) throws -> PeerRecord {
        guard let peer = context.peer else { throw LiaisonError(.unauthorized, "the request is not authenticated") }
        return peer
    }

    func pull(_ request: Request, _ context: PeerRequestContext, peer: PeerRecord) async throws -> Response {
        try checkSchema(of: request, peer: peer)
        let body = try await decode(PullRequest.self, from: request)
        let cursor = try SyncCursor(parsing: body.cursor)
        var limits = configuration.pageLimits
        if let limit = body.limit {
            guard limit > 0 else { throw LiaisonError(.malformedRequest, "limit must be positive") }
            limits.maxChanges = min(limit, limits.maxChanges)
        }
        let wanted = Array((body.wanted ?? []).prefix(500))
        if let heads = body.heads {
            guard heads.count <= 100_000 else { throw LiaisonError(.malformedRequest, "too many heads") }
            try await replica.perform { try $0.compareHeads(heads, from: peer.name) }
        }
        if let held = body.held {
            // The first request of a round: what this peer sent and is held here gets another chance.
            try await replica.perform { try $0.retryQuarantine(from: peer.name) }
            // What the requester holds of this server's traffic, for `liaison status` here.
            try await replica.perform { try $0.recordPeerHeld(peer: peer.name, Array(held.prefix(200))) }
        }
        var page = try await replica.perform { [limits] in
            try $0.changes(
                after: cursor, excluding: body.vector, limits: limits, readable: peer.readScopes, wanted: wanted)
        }
        page.held = try await replica.perform { try $0.held(from: peer.name) }
        // What the peer holds once it applies this page: its vector and the page's whole transactions.
        var holds = body.vector
        for record in page.transactions where record.isLastPiece && record.seq > holds[record.origin] {
            holds[record.origin] = record.seq
        }
        try? await replica.perform { [holds] in
            try $0.recordRound(peer: peer.name, direction: .inbound, error: nil, peerVector: holds, merging: true)
        }
        // The packed form when asked for (docs/PROTOCOL.md, "The packed page"); any other value reads as plain.
        if body.form == PackedPage.form { return try json(PackedPullResponse(page), for: request, context) }
        return try json(page, for: request, context)
    }

    func push(_ request: Request, _ context: PeerRequestContext, peer: PeerRecord) async throws -> Response {
        try checkSchema(of: request, peer: peer)
        let body = try await decode(PushRequest.self, from: request)
        let started = ContinuousClock.now
        let result: ApplyResult
        do {
            result = try await replica.perform {
                try $0.apply(body.transactions, keys: body.keys, writableScopes: peer.writeScopes, from: peer.name)
            }
        } catch {
            let message = (error as? LiaisonError)?.message ?? "\(error)"
            try? await replica.perform {
                try $0.recordRound(peer: peer.name, direction: .inbound, error: message, peerVector: nil)
            }
            throw error
        }
        SyncMetrics.applyDuration(.push).recordNanoseconds((ContinuousClock.now - started).nanoseconds)
        // The peer holds what it pushed.
        var pushed = VersionVector()
        for record in body.transactions where record.isLastPiece && record.seq > pushed[record.origin] {
            pushed[record.origin] = record.seq
        }
        try? await replica.perform { [pushed] in
            try $0.recordRound(peer: peer.name, direction: .inbound, error: nil, peerVector: pushed, merging: true)
        }
        return try json(
            PushResponse(
                applied: result.applied, skipped: result.skipped, staged: result.staged, vector: result.vector,
                held: result.heldFromSource.isEmpty ? nil : result.heldFromSource),
            for: request, context)
    }

    func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
        do {
            let value = try WireJSON.decode(type, from: Data(buffer.readableBytesView))
            if let versioned = value as? any ProtocolVersioned, versioned.protocolVersion != liaisonProtocolVersion {
                throw LiaisonError(
                    .malformedRequest,
                    "protocol version \(versioned.protocolVersion) is not supported; this server speaks \(liaisonProtocolVersion)"
                )
            }
            return value
        } catch let error as DecodingError {
            throw LiaisonError(.malformedRequest, "the request body is not a valid \(T.self): \(Self.describe(error))")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context),
            .valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "at '\(path)': ") + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }

    /// The answer as JSON (gzip when the client accepts it), with its HMAC over the uncompressed body.
    func json<T: Encodable>(_ value: T, for request: Request, _ context: PeerRequestContext) throws -> Response {
        let data = try WireJSON.encode(value)
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[.vary] = "Accept-Encoding"
        // Every answer (each page included) says which schema, major and hash it was made under.
        if let name = HTTPField.Name(SchemaStamp.header) {
            headers[name] = SchemaStamp(replica.schema, withHash: true).headerValue
        }
        if let peer = context.peer, let signature = context.signature {
            headers[AnswerSigner.answerHeader] = AnswerSignature.sign(
                token: peer.token, status: 200, nonce: signature.nonce, body: data)
        }
        if data.count > 1_024, Self.acceptsGzip(request.headers[.acceptEncoding]), let compressed = Gzip.compress(data)
        {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: compressed)))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension SyncController {
    /// Whether an `Accept-Encoding` header allows gzip (`gzip;q=0` refuses it).
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        for part in header.split(separator: ",") {
            let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let coding = fields.first?.lowercased(), coding == "gzip" || coding == "*" else { continue }
            let quality = fields.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return quality > 0
        }
        return false
    }
}

/// Messages that carry the protocol version.
protocol ProtocolVersioned { var protocolVersion: Int { get } }
extension PullRequest: ProtocolVersioned {}
extension PushRequest: ProtocolVersioned {}

extension SyncController {
    /// Refuses a pull or push from a client that says it is on another schema or major version.
    func checkSchema(of request: Request, peer: PeerRecord) throws {
        guard let name = HTTPField.Name(SchemaStamp.header), let value = request.headers[name] else { return }
        guard let theirs = SchemaStamp(value) else {
            throw LiaisonError(.malformedRequest, "the \(SchemaStamp.header) header is malformed")
        }
        let ours = SchemaStamp(replica.schema)
        guard theirs.isCompatible(with: ours) else {
            throw SchemaMajor.refusal(
                peer: peer.name, theirs: (theirs.name, theirs.major), ours: (ours.name, ours.major))
        }
    }
}
