// A tokenizer read from a Hugging Face tokenizer.json: byte-level BPE (GPT-2's split, or Llama 3's)
// or SentencePiece-style BPE (Llama 2, TinyLlama, Mistral), with the tokens that frame a sequence
// from its post-processor and companion files (TokenizerCompanions). Ids are the `tokenizers`
// library's for the same text; decoding follows the file's decoder. What the file asks for and we
// do not implement is refused when it is read (HuggingFacePipeline), never ignored.
//
// A plain GPT-2 layout with nothing around the ids loads as the BPETokenizer it always was, so
// checkpoints written by `gpt prepare` and `gpt train` load exactly as before.

import FoundationEssentials

/// A Hub tokenizer.json (and its companion files) as the `tokenizers` library runs it.
public struct HuggingFaceTokenizer: Tokenizer, Sendable {
    /// What turns text into ids between the framing tokens.
    public enum Engine: Sendable {
        /// Byte-level BPE: GPT-2's or Llama 3's split, then merges over bytes.
        case byteLevel(BPETokenizer)
        /// SentencePiece-style BPE over Unicode scalars, with byte fallback.
        case sentencePiece(SentencePieceBPE)
    }

    /// The file's model and pre-tokenization.
    public let engine: Engine
    /// BOS/EOS: from the post-processor's template and the companion files.
    public let sequenceBoundaries: SequenceBoundaries
    /// Token id -> its string as the file spells it, for the decoder.
    let tokenStrings: [String]
    let decoder: TokenDecoder
    /// tokenizer.json as read; `jsonData()` writes it back unchanged.
    public let source: Data
    /// The companion files read with it (tokenizer_config.json, ...) by name, as read, so that a
    /// checkpoint written from this tokenizer can carry them too.
    public let companionFiles: [String: Data]

    /// Every id of the file's vocabulary and added tokens.
    public var vocabularySize: Int { tokenStrings.count }

    /// "bpe" (byte-level) or "sentencepiece-bpe", by the file's pipeline.
    public var kind: String {
        switch engine {
        case .byteLevel: return BPETokenizer.typeName
        case .sentencePiece: return SentencePieceBPE.typeName
        }
    }

    /// The text's ids framed by the sequence boundaries the companion files name (e.g. BOS); throws
    /// what the pipeline throws for text it cannot represent.
    public func encode(_ text: String) throws -> [Int32] {
        var ids = sequenceBoundaries.prepended
        switch engine {
        case let .byteLevel(bpe):
            ids += try bpe.encode(text)
        case let .sentencePiece(pieces):
            var copy = text
            _ = try copy.withUTF8 { try pieces.encodeChunk($0, isFinal: true, into: &ids) }
        }
        return ids + sequenceBoundaries.appended
    }

    /// The text's ids without the framing tokens, in chunks (see `Tokenizer.encodeChunk`).
    public func encodeChunk(_ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, into tokens: inout [Int32]) throws -> Int {
        switch engine {
        case let .byteLevel(bpe) where bpe.addPrefixSpace:
            // The space goes before the text's first segment, and only the final call knows a chunk
            // is where the text starts: consume nothing until then (exact, at the cost of memory).
            return isFinal ? bpe.encodeChunk(bytes, isFinal: true, atTextStart: true, into: &tokens) : 0
        case let .byteLevel(bpe):
            return bpe.encodeChunk(bytes, isFinal: isFinal, into: &tokens)
        case let .sentencePiece(pieces):
            return try pieces.encodeChunk(bytes, isFinal: isFinal, into: &tokens)
        }
    }

    /// The pipeline's decoder over the tokens' strings; ids outside the vocabulary give U+FFFD.
    public func decode(_ tokens: [Int32]) -> String {
        decoder.decode(tokens.map { tokenStrings.indices.contains(Int($0)) ? tokenStrings[Int($0)] : "\u{FFFD}" })
    }

    /// The bytes `tokens` stand for, so a stream can print characters that span tokens.
    public func decodeBytes(_ tokens: [Int32]) -> [UInt8] {
        switch engine {
        case let .byteLevel(bpe): return bpe.decodeBytes(tokens)
        case let .sentencePiece(pieces): return pieces.decodeBytes(tokens)
        }
    }

    /// The tokenizer.json exactly as read: saving it again writes the same bytes.
    public func jsonData() throws -> Data { source }
}

extension HuggingFaceTokenizer {
    /// Reads a tokenizer.json (`path` names it in errors) and, from `directory`, its companion files.
    /// Returns a BPETokenizer for a plain GPT-2 layout, else a HuggingFaceTokenizer.
    public static func load(jsonData data: Data, path: String, directory: String? = nil) throws -> any Tokenizer {
        func fail(_ reason: String) -> TokenizerError { .malformed(path: path, reason: reason) }
        let root: JSONValue
        let pipeline: HuggingFacePipeline
        do {
            root = try JSONParser.parse(Array(data))
            pipeline = try HuggingFacePipeline(root)
        } catch let refusal as HuggingFacePipeline.Refusal {
            throw fail(refusal.reason)
        } catch {
            throw fail("not valid JSON: \(error)")
        }
        let companions = try directory.map(TokenizerCompanions.read) ?? TokenizerCompanions()
        let engine: Engine
        let vocabulary: FileVocabulary
        switch pipeline.splitting {
        case let .byteLevel(pattern, addPrefixSpace):
            let options = BPETokenizer.PreTokenization(splitPattern: pattern, addPrefixSpace: addPrefixSpace,
                                                       ignoreMerges: pipeline.ignoreMerges)
            engine = .byteLevel(try BPETokenizer(huggingFaceJSON: data, path: path, preTokenization: options))
            vocabulary = try FileVocabulary(root, added: pipeline.addedTokens, fail: fail)
        case let .sentencePiece(metaspace):
            vocabulary = try FileVocabulary(root, added: pipeline.addedTokens, fail: fail)
            engine = .sentencePiece(try sentencePiece(root, pipeline, metaspace, vocabulary, fail: fail))
        }
        let boundaries = try companions.boundaries(template: (pipeline.prepended, pipeline.appended),
                                                   vocabularySize: vocabulary.strings.count,
                                                   directory: directory ?? ".", tokenID: vocabulary.id(of:))
        if let outside = (pipeline.prepended + pipeline.appended).first(where: { Int($0) >= vocabulary.strings.count }) {
            throw fail("post_processor adds token \(outside), outside the vocabulary of \(vocabulary.strings.count)")
        }
        if case let .byteLevel(bpe) = engine, bpe.splitPattern == .gpt2, !bpe.addPrefixSpace, !bpe.ignoreMerges,
           boundaries == .none, pipeline.decoder.steps == [.byteLevel] {
            return bpe
        }
        return HuggingFaceTokenizer(engine: engine, sequenceBoundaries: boundaries, tokenStrings: vocabulary.strings,
                                    decoder: pipeline.decoder, source: data, companionFiles: companions.files)
    }

    /// The directory a file is in ("." for a bare name), where its companion files are looked for.
    public static func directory(containing path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func sentencePiece(_ root: JSONValue, _ pipeline: HuggingFacePipeline, _ metaspace: SentencePieceBPE.Metaspace?,
                                      _ vocabulary: FileVocabulary, fail: (String) -> TokenizerError) throws -> SentencePieceBPE {
        var configuration = SentencePieceBPE.Configuration()
        configuration.normalizer = pipeline.normalizer
        configuration.metaspace = metaspace
        configuration.byteFallback = pipeline.byteFallback
        configuration.fuseUnknown = pipeline.fuseUnknown
        configuration.ignoreMerges = pipeline.ignoreMerges
        configuration.decoder = pipeline.decoder
        if let unknown = pipeline.unknownToken {
            guard let id = vocabulary.id(of: unknown) else { throw fail("model.unk_token \(unknown.debugDescription) is not in the vocabulary") }
            configuration.unknownToken = id
        }
        let merges = try vocabulary.merges(root.member("model")?.member("merges"), fail: fail)
        do {
            return try SentencePieceBPE(tokens: vocabulary.strings, merges: merges, added: pipeline.addedTokens.map(\.id),
                                        configuration: configuration)
        } catch let TokenizerError.malformed(_, reason) {
            throw fail(reason)
        }
    }
}
