import Foundation
import Liaison

/// gzip compression of response bodies (zlib, level 6).
enum Gzip {
    static func compress(_ input: Data, level: Int32 = 6) -> Data? {
        Deflate.compress(input, level: level, framing: .gzip)
    }
}
