// An insert-only hash set of byte strings, stored in one arena: looking up a pre-tokenised piece
// costs one hash and one compare, with no allocation (a Swift Dictionary keyed by [UInt8] would
// allocate an array per lookup). Word counting, the BPE encode cache and the word tokenizer's
// vocabulary are all such tables, with their values in arrays indexed by entry number.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ByteStringTable: Sendable {
    /// All entries' bytes, back to back; entry i is bytes[offsets[i] ..< offsets[i + 1]].
    private(set) var bytes: [UInt8] = []
    private(set) var offsets: [Int] = [0]
    private var hashes: [UInt64] = []
    /// Open addressing with linear probing: entry index + 1, or 0 for an empty slot.
    private var slots: [Int32]
    private var mask: Int

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
    }

    var count: Int { offsets.count - 1 }

    /// FNV-1a over the bytes, then a final avalanche so the low bits (the slot) are well mixed.
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        return h ^ (h >> 32)
    }

    /// The entry number of `key`, if present.
    func find(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        find(key, hash: Self.hash(key)).entry
    }

    /// The entry number of `key`, inserting it if absent.
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>) -> (entry: Int, inserted: Bool) {
        let h = Self.hash(key)
        let (entry, slot) = find(key, hash: h)
        if let entry { return (entry, false) }
        let index = count
        bytes.append(contentsOf: key)
        offsets.append(bytes.count)
        hashes.append(h)
        slots[slot] = Int32(index + 1)
        if count * 2 > slots.count { grow() }
        return (index, true)
    }

    mutating func insert(_ key: [UInt8]) -> (entry: Int, inserted: Bool) {
        key.withUnsafeBufferPointer { insert($0) }
    }

    func find(_ key: [UInt8]) -> Int? {
        key.withUnsafeBufferPointer { find($0) }
    }

    /// Entry i's bytes.
    func key(_ entry: Int) -> ArraySlice<UInt8> { bytes[offsets[entry] ..< offsets[entry + 1]] }

    @inline(__always)
    private func find(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (entry: Int?, slot: Int) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        return bytes.withUnsafeBufferPointer { arena in
            while true {
                let stored = Int(slots[slot])
                if stored == 0 { return (nil, slot) }
                let entry = stored - 1
                if hashes[entry] == hash {
                    let start = offsets[entry], length = offsets[entry + 1] - start
                    if length == key.count
                        && (length == 0 || memcmp(arena.baseAddress! + start, key.baseAddress!, length) == 0)
                    {
                        return (entry, slot)
                    }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
        for (entry, h) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: h) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(entry + 1)
        }
    }
}
