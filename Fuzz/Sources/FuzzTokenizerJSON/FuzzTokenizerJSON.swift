// A Hugging Face tokenizer.json (BPE): vocabulary, merges, added tokens, pre-tokenizer; then
// encoding a title with it.
import FuzzSupport
import Tokenizers

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let dir = FuzzFiles.write([("tokenizer.json", FuzzFiles.bytes(start, count))])
    if let tokenizer = try? BPETokenizer(directory: dir) { _ = tokenizer.encode("Toy Story (1995) 12345 <|im_end|>") }
    return 0
}

@_cdecl("FuzzTokenizerJSON_main")
public func FuzzTokenizerJSON_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
