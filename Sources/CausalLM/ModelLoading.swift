// Turning what a user passes as --model (the alias `smollm2`, a .gguf file, or a Hugging Face
// directory) into a tokenizer and a model, with errors that say what was expected.
import Foundation
import ModelFormats
import Support
import Tokenizers

public enum ModelSource: Sendable, Equatable {
    case gguf(String)
    case huggingFace(URL)

    public var path: String {
        switch self {
        case .gguf(let p): p
        case .huggingFace(let u): u.path
        }
    }

    /// Resolves `spec`: an alias of the embedded default, a .gguf file, or a directory with config.json.
    public static func resolve(_ spec: String) throws -> ModelSource {
        let fm = FileManager.default
        if let entry = Assets.models.first(where: { $0.alias == spec }), !fm.fileExists(atPath: spec) {
            return .gguf(try Assets.require(entry).path)
        }
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: spec, isDirectory: &isDirectory) else {
            throw FormatError.missing(path: spec, what: "the model",
                                      hint: "Give a .gguf file, a Hugging Face directory, or the alias \(Assets.models.map(\.alias).joined(separator: ", ")).")
        }
        if isDirectory.boolValue {
            guard fm.fileExists(atPath: URL(fileURLWithPath: spec).appendingPathComponent("config.json").path) else {
                throw FormatError.missing(path: spec, what: "config.json", hint: "A Hugging Face model directory holds config.json, safetensors and tokenizer.json.")
            }
            return .huggingFace(URL(fileURLWithPath: spec))
        }
        return .gguf(spec)
    }

    public func loadTokenizer() throws -> BPETokenizer {
        switch self {
        case .gguf(let p): try BPETokenizer(gguf: GGUFFile(path: p))
        case .huggingFace(let dir): try BPETokenizer(directory: dir)
        }
    }

    /// The model alone (a Hugging Face directory then needs no tokenizer.json).
    public func loadModel() throws -> DecoderModel {
        switch self {
        case .gguf(let p): try DecoderModel(gguf: GGUFFile(path: p))
        case .huggingFace(let dir): try DecoderModel(huggingFace: dir)
        }
    }

    /// The model and its tokenizer; a GGUF file is mapped once for both.
    public func load() throws -> (DecoderModel, BPETokenizer) {
        switch self {
        case .gguf(let p):
            let file = try GGUFFile(path: p)
            return (try DecoderModel(gguf: file), try BPETokenizer(gguf: file))
        case .huggingFace(let dir):
            return (try DecoderModel(huggingFace: dir), try BPETokenizer(directory: dir))
        }
    }
}
