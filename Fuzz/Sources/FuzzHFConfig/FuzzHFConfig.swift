// A Hugging Face config.json: architecture, sizes, RoPE settings, all checked before use.
import CausalLM
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let dir = FuzzFiles.write([("config.json", FuzzFiles.bytes(start, count))])
    _ = try? ModelConfig(huggingFace: dir)
    return 0
}

@_cdecl("FuzzHFConfig_main")
public func FuzzHFConfig_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
