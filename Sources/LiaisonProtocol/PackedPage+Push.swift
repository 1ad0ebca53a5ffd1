import Foundation

/// A push request written in the packed form (`PackedPage`): sent only to a server whose status
/// lists `"packed"` in `forms` (docs/PROTOCOL.md, "The packed page"). Foundation's coders (the
/// fallback) write it in the plain form, which every server reads.
package struct PackedPushRequest: Encodable, FastWireCodable {
    package var request: PushRequest

    package init(_ request: PushRequest) { self.request = request }

    package func encode(to encoder: any Encoder) throws { try request.encode(to: encoder) }

    package static func read(from scanner: inout JSONScanner) throws -> PackedPushRequest {
        PackedPushRequest(try PushRequest.read(from: &scanner))
    }

    package func write(to writer: inout JSONWriter) throws {
        try request.write(to: &writer, packed: true)
    }
}
