// Finding and opening the CUDA libraries at run time: the driver (libcuda, installed with the
// NVIDIA driver), NVRTC (the run-time CUDA C compiler) and cuBLAS. Each is looked for by its
// versioned file names, first in the folders of LLMREC_CUDA_PATH, then where the dynamic loader
// looks by itself (LD_LIBRARY_PATH, ldconfig's cache). Nothing is opened until a CUDA feature is
// used, so CPU-only work never touches them.
import CCUDA
import Foundation
import Support

public enum CUDALibrary: String, Sendable, CaseIterable {
    case driver = "CUDA driver"
    case nvrtc = "NVRTC"
    case cublas = "cuBLAS"

    /// File names, newest first. CUDA 12 and 13 share the ABI of every entry point in cuda_shim.h.
    public var fileNames: [String] {
        switch self {
        case .driver: ["libcuda.so.1", "libcuda.so"]
        case .nvrtc: ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"]
        case .cublas: ["libcublas.so.13", "libcublas.so.12", "libcublas.so"]
        }
    }

    /// The folders named in LLMREC_CUDA_PATH, in order, then $LLMREC_HOME/cuda (where
    /// `scripts/fetch-assets.sh --nvrtc` puts NVRTC).
    public static func searchFolders(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        (environment["LLMREC_CUDA_PATH"] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
            + [Assets.home.appendingPathComponent("cuda").path]
    }

    public func open(folders: [String] = CUDALibrary.searchFolders(), preferCUDA12: Bool = false) throws -> (handle: UnsafeMutableRawPointer, path: String) {
        if self == .nvrtc { Self.loadNVRTCBuiltins(folders: folders) }
        let names = preferCUDA12 ? fileNames.filter { $0.hasSuffix(".12") } + fileNames.filter { !$0.hasSuffix(".12") } : fileNames
        return try Self.open(rawValue, fileNames: names, folders: folders)
    }

    /// NVRTC opens its builtins library (libnvrtc-builtins.so.13.0) by bare name when it first
    /// compiles; from a folder outside the loader's search (pip's wheel, $LLMREC_HOME/cuda) that
    /// fails. Loaded first, globally, it is found by its name.
    static func loadNVRTCBuiltins(folders: [String]) {
        for folder in folders {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for name in names.sorted() where name.hasPrefix("libnvrtc-builtins.so.") {
                _ = dlopen((folder as NSString).appendingPathComponent(name), RTLD_NOW | RTLD_GLOBAL)
            }
        }
    }

    /// Opens the first candidate that loads: each file name in each folder, then each bare file
    /// name (the loader's own search). Throws with every attempt and its reason when none does.
    static func open(_ library: String, fileNames: [String], folders: [String]) throws -> (handle: UnsafeMutableRawPointer, path: String) {
        var tried: [String] = []
        let candidates = folders.flatMap { folder in fileNames.map { (folder as NSString).appendingPathComponent($0) } } + fileNames
        for path in candidates {
            if let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) { return (handle, path) }
            // dlerror's text starts with the path itself; keep only its reason.
            let reason = dlerror().map { String(cString: $0) } ?? "not loadable"
            tried.append("\(path): \(reason.hasPrefix(path + ": ") ? String(reason.dropFirst(path.count + 2)) : reason)")
        }
        throw CUDAError.libraryNotFound(library: library, tried: tried)
    }
}

/// The three tables of entry points, bound once per process on first use.
public struct CUDALibraries: Sendable {
    public let driver: llmrec_cuda_driver
    public let driverPath: String
    public let nvrtc: llmrec_nvrtc
    public let nvrtcPath: String
    public let cublas: llmrec_cublas
    public let cublasPath: String

    /// The libraries of this process, or why they cannot be used (looked up once).
    public static func shared() throws -> CUDALibraries { try loaded.get() }
    private static let loaded = Result { try CUDALibraries(folders: CUDALibrary.searchFolders()) }

    public init(folders: [String]) throws {
        (driver, driverPath) = try Self.bind(.driver, folders: folders, llmrec_bind_cuda_driver)
        // A CUDA 12 driver cannot run CUDA 13's cuBLAS or NVRTC's code: then the .12 names come first.
        var version: Int32 = 0
        let cuda12 = driver.cuDriverGetVersion(&version) == 0 && version < 13000
        (nvrtc, nvrtcPath) = try NVRTCLibrary.bind(folders: folders, preferCUDA12: cuda12)
        (cublas, cublasPath) = try Self.bind(.cublas, folders: folders, preferCUDA12: cuda12, llmrec_bind_cublas)
    }

    /// Opens `library` and fills its table with `binder` (one of cuda_shim.h's).
    static func bind<Table>(_ library: CUDALibrary, folders: [String], preferCUDA12: Bool = false,
                            _ binder: (UnsafeMutableRawPointer?, UnsafeMutablePointer<Table>?) -> UnsafePointer<CChar>?) throws -> (Table, String) {
        let (handle, path) = try library.open(folders: folders, preferCUDA12: preferCUDA12)
        let table = UnsafeMutablePointer<Table>.allocate(capacity: 1)
        UnsafeMutableRawPointer(table).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<Table>.size)
        defer { table.deallocate() }
        if let missing = binder(handle, table) {
            throw CUDAError.missingSymbol(library: library.rawValue, path: path, symbol: String(cString: missing))
        }
        return (table.pointee, path)
    }
}

/// NVRTC alone: enough to compile the kernels on a machine without a GPU (tests, `llmrec cuda compile`).
public enum NVRTCLibrary {
    public static func bind(folders: [String] = CUDALibrary.searchFolders(), preferCUDA12: Bool = false) throws -> (llmrec_nvrtc, String) {
        try CUDALibraries.bind(.nvrtc, folders: folders, preferCUDA12: preferCUDA12, llmrec_bind_nvrtc)
    }
}
