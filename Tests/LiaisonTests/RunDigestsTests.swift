import Foundation
import Liaison
import Testing

/// A publish run keeps each change digest as 32 bytes and its position (`RunDigests`); a
/// transaction's root must be what the digests' hex texts in position order give, whatever order
/// the run made them in (rows are published grouped by row, not by position) and however the
/// bulk inserts' digests were merged in.
@Suite struct RunDigestsTests {
    static func hex(_ seed: Int) -> [UInt8] {
        var generator = SplitMix(state: UInt64(seed))
        let digits = Array("0123456789abcdef".utf8)
        return (0..<64).map { _ in digits[Int(generator.next() % 16)] }
    }

    @Test func rootsAreThoseOfTheHexDigestsInPositionOrder() {
        var generator = SplitMix(state: 7)
        // Three transactions; positions shuffled, some recorded by a second run merged in.
        var expected: [Int64: [(Int64, [UInt8])]] = [:]
        var first = RunDigests()
        var second = RunDigests()
        var entries: [(seq: Int64, n: Int64, hex: [UInt8])] = []
        for seq in Int64(1)...3 {
            for n in Int64(1)...Int64(40 * seq) {
                let hex = Self.hex(Int(seq * 1000 + n))
                entries.append((seq, n, hex))
                expected[seq, default: []].append((n, hex))
            }
        }
        entries.shuffle(using: &generator)
        for (index, entry) in entries.enumerated() {
            if index % 3 == 0 {
                second.append(seq: entry.seq, n: entry.n, hex: entry.hex)
            } else {
                first.append(seq: entry.seq, n: entry.n, hex: entry.hex)
            }
        }
        var empty = RunDigests()
        empty.absorb(second)  // moved whole
        empty.absorb(first)  // merged entry by entry
        var positions: [Int64] = []
        empty.forEachPosition { positions.append($0) }
        #expect(positions.count == entries.count)
        for seq in Int64(1)...3 {
            let inOrder = expected[seq]!.sorted { $0.0 < $1.0 }.map(\.1)
            #expect(empty.ordered(seq) == inOrder)
        }
        #expect(empty.ordered(4).isEmpty)
    }

    @Test func digestsRecordedInOrderComeBackUnchanged() {
        var digests = RunDigests()
        let hexes = (0..<100).map { Self.hex($0) }
        for (index, hex) in hexes.enumerated() { digests.append(seq: 9, n: Int64(index + 1), hex: hex) }
        #expect(digests.ordered(9) == hexes)
    }
}
