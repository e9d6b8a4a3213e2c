// The server's request parsing: a recommend body, and a query string (the same bytes).
import APIRequests
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    _ = try? RecommendRequest.decode(bytes)
    _ = formParameters(String(decoding: bytes, as: UTF8.self))
    return 0
}

@_cdecl("FuzzRecommendRequest_main")
public func FuzzRecommendRequest_main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(argc, argv, fuzz)
}
