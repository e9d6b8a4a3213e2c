// A safetensors file: the length, the JSON header, the tensor table, and reading each tensor.
import FuzzSupport
import ModelFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let dir = FuzzFiles.write([("model.safetensors", FuzzFiles.bytes(start, count))])
    guard let tensors = try? Safetensors.read(path: dir.appendingPathComponent("model.safetensors").path) else { return 0 }
    for tensor in tensors.values where tensor.shape.reduce(1, *) <= 1 << 20 {
        let out = UnsafeMutablePointer<Float>.allocate(capacity: max(1, tensor.shape.reduce(1, *)))
        tensor.read(into: out)
        out.deallocate()
    }
    return 0
}

@_cdecl("FuzzSafetensors_main")
public func FuzzSafetensors_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
