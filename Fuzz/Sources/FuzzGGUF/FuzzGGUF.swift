// A GGUF file: header, metadata, tensor table; then what llmrec reads from it (model config,
// tokenizer, weights).
import CausalLM
import FuzzSupport
import ModelFormats
import Tokenizers

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let dir = FuzzFiles.write([("model.gguf", FuzzFiles.bytes(start, count))])
    guard let file = try? GGUFFile(path: dir.appendingPathComponent("model.gguf").path) else { return 0 }
    _ = try? ModelConfig(gguf: file)
    if let tokenizer = try? BPETokenizer(gguf: file) { _ = tokenizer.encode("Toy Story (1995) <|im_end|>") }
    _ = try? DecoderModel(gguf: file)
    return 0
}

@_cdecl("FuzzGGUF_main")
public func FuzzGGUF_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
