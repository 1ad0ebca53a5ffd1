import Foundation
import Liaison

/// gzip compression of response bodies (zlib).
enum Gzip {
    /// The level answers are compressed at. Level 1, not zlib's default 6: on the packed pages
    /// of a clone, level 6 was 14 % of the server's CPU (about 14 µs a row), and level 1 takes a
    /// third of that for a few more bytes (docs/DECISIONS.md, "Sync speed, sixth pass").
    static let answerLevel: Int32 = 1

    static func compress(_ input: Data, level: Int32 = answerLevel) -> Data? {
        Deflate.compress(input, level: level, framing: .gzip)
    }
}
