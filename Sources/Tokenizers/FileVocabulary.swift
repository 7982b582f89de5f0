// A tokenizer.json's vocabulary as token strings by id (model.vocab, with added tokens over their
// ids) and its merges as pairs of ids. Token strings are compared by their Unicode scalars: Swift's
// String equality would take "é" and "e\u{301}" for one token, which they are not.

import FoundationEssentials

struct FileVocabulary {
    /// Token id -> its string.
    var strings: [String]
    /// model.vocab's strings (as UTF-8) -> id; added tokens are not in it.
    private var ids: [[UInt8]: Int32]
    private var added: [(bytes: [UInt8], id: Int32)]

    init(_ root: JSONValue, added tokens: [HuggingFacePipeline.AddedToken], fail: (String) -> TokenizerError) throws {
        guard let members = root.member("model")?.member("vocab")?.objectMembers else {
            throw fail("key 'model.vocab' has the wrong type (expected an object of token ids)")
        }
        var byID: [Int: String] = [:]
        var ids: [[UInt8]: Int32] = [:]
        ids.reserveCapacity(members.count)
        for (token, value) in members {
            guard let id = value.integerValue, id >= 0, id < Int(Int32.max) else {
                throw fail("vocab entry \(token.debugDescription) has an id that is not a non-negative integer")
            }
            if let other = byID[id] {
                throw fail("id \(id) is used by both \(other.debugDescription) and \(token.debugDescription)")
            }
            byID[id] = token
            ids[Array(token.utf8)] = Int32(id)
        }
        for token in tokens { byID[Int(token.id)] = token.content }
        let size = (byID.keys.max() ?? -1) + 1
        guard size > 0 else { throw fail("the vocabulary is empty") }
        if let gap = (0..<size).first(where: { byID[$0] == nil }) {
            throw fail("no token has id \(gap) (ids must be 0..<\(size) without gaps)")
        }
        strings = (0..<size).map { byID[$0]! }
        self.ids = ids
        added = tokens.map { (Array($0.content.utf8), $0.id) }
    }

    /// The id of the token spelled `content`: an added token first, then the vocabulary.
    func id(of content: String) -> Int32? {
        let bytes = Array(content.utf8)
        return added.first { $0.bytes == bytes }?.id ?? ids[bytes]
    }

    /// model.merges ("left right" strings or [left, right] pairs) as id pairs, in rank order.
    func merges(_ value: JSONValue?, fail: (String) -> TokenizerError) throws -> [(Int32, Int32)] {
        guard let items = value?.arrayValue else { throw fail("key 'model.merges' has the wrong type (expected an array)") }
        return try items.enumerated().map { rank, item in
            let pair: [String]
            if let line = item.stringValue {
                pair = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else {
                pair = item.arrayValue?.compactMap(\.stringValue) ?? []
            }
            guard pair.count == 2 else { throw fail("merges[\(rank)] is not a pair of tokens") }
            guard let left = ids[Array(pair[0].utf8)], let right = ids[Array(pair[1].utf8)] else {
                throw fail("merges[\(rank)] (\(pair[0]) \(pair[1])) uses a token that is not in the vocab")
            }
            return (left, right)
        }
    }
}
