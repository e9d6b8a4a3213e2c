// A checkpoint's state.json, as `train --resume` reads it.
import FuzzSupport
import Training

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let dir = FuzzFiles.write([("state.json", FuzzFiles.bytes(start, count))])
    _ = try? RunDirectory(dir.deletingLastPathComponent()).loadState(from: dir, maxStep: 1000)
    return 0
}

@_cdecl("FuzzCheckpointState_main")
public func FuzzCheckpointState_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
