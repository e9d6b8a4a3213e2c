// What can go wrong between llmrec and CUDA, each message naming the library, call or kernel
// and what to do about it.
import Foundation

public enum CUDAError: Error, CustomStringConvertible, Equatable {
    /// None of a library's file names opened; `tried` lists each attempt with dlopen's reason.
    case libraryNotFound(library: String, tried: [String])
    /// The library opened but lacks an entry point llmrec calls (too old a CUDA).
    case missingSymbol(library: String, path: String, symbol: String)
    /// A driver call failed: its name, the CUresult and the driver's own words.
    case driver(call: String, code: Int32, message: String)
    case noDevice(ordinal: Int, count: Int)
    case nvrtc(call: String, message: String)
    /// The kernels did not compile: NVRTC's log, which names the kernel source's line.
    case compilation(program: String, options: [String], log: String)
    case cublas(call: String, status: Int32, message: String)
    /// A kernel's launch arguments do not fit the kernel (a bug in llmrec, named precisely).
    case launch(kernel: String, reason: String)

    public var description: String {
        switch self {
        case .libraryNotFound(let library, let tried):
            """
            no usable \(library) library was found; tried:
            \(tried.map { "  " + $0 }.joined(separator: "\n"))
            Install the NVIDIA driver and CUDA 12 or 13 (or pip's nvidia-* wheels), or name the folder \
            that holds the libraries in LLMREC_CUDA_PATH (several folders separated by ':').
            """
        case .missingSymbol(let library, let path, let symbol):
            "\(path) (\(library)) has no \(symbol); llmrec needs CUDA 12 or newer"
        case .driver(let call, let code, let message):
            "CUDA driver call \(call) failed with error \(code): \(message)"
        case .noDevice(let ordinal, let count):
            count == 0 ? "the CUDA driver is installed but sees no GPU" : "there is no GPU \(ordinal): the CUDA driver sees \(count) (0..<\(count))"
        case .nvrtc(let call, let message): "NVRTC call \(call) failed: \(message)"
        case .compilation(let program, let options, let log):
            "NVRTC could not compile \(program) (\(options.joined(separator: " "))):\n\(log)"
        case .cublas(let call, let status, let message): "cuBLAS call \(call) failed with status \(status): \(message)"
        case .launch(let kernel, let reason): "kernel \(kernel) cannot be launched: \(reason)"
        }
    }
}
