// Compiling the kernels' CUDA C with NVRTC for the card at hand, once: the machine code (cubin)
// for `sm_XY` is cached on disk under a name that hashes the source, the options and NVRTC's
// version, so a later run loads it without compiling, and a changed kernel or compiler misses.
import CCUDA
import Foundation
import Support

public struct NVRTCCompiler: Sendable {
    let api: llmrec_nvrtc
    public let libraryPath: String
    public let version: (major: Int32, minor: Int32)

    public init(folders: [String] = CUDALibrary.searchFolders()) throws {
        (api, libraryPath) = try NVRTCLibrary.bind(folders: folders)
        var major: Int32 = 0, minor: Int32 = 0
        let result = api.nvrtcVersion(&major, &minor)
        guard result == 0 else { throw CUDAError.nvrtc(call: "nvrtcVersion", message: Self.message(api, result)) }
        version = (major, minor)
    }

    /// What NVRTC makes: machine code for one architecture (`cubin`), or PTX for the driver to
    /// finish (`ptx`, for a GPU NVRTC does not know yet).
    public enum Output: String, Sendable { case cubin, ptx }

    /// The options every kernel program is compiled with for `architecture` (e.g. "sm_90").
    /// No fast-math: the kernels must agree with the CPU backend to float rounding.
    public static func options(architecture: String, output: Output) -> [String] {
        let arch = output == .cubin ? architecture : architecture.replacingOccurrences(of: "sm_", with: "compute_")
        return ["--gpu-architecture=\(arch)", "--std=c++17", "-default-device", "--fmad=true"]
    }

    /// Compiles `source` (named `name` in messages) into `output` for `architecture`.
    public func compile(_ source: String, name: String, architecture: String, output: Output = .cubin) throws -> [UInt8] {
        var program: llmrec_nvrtc_program?
        var result = api.nvrtcCreateProgram(&program, source, name, 0, nil, nil)
        guard result == 0, let program else { throw CUDAError.nvrtc(call: "nvrtcCreateProgram", message: message(result)) }
        defer { var p: llmrec_nvrtc_program? = program; _ = api.nvrtcDestroyProgram(&p) }
        let options = Self.options(architecture: architecture, output: output)
        let cOptions = options.map { strdup($0) }
        defer { cOptions.forEach { free($0) } }
        result = cOptions.map { UnsafePointer<CChar>($0) }.withUnsafeBufferPointer {
            api.nvrtcCompileProgram(program, Int32(options.count), $0.baseAddress)
        }
        let log = programLog(program)
        guard result == 0 else { throw CUDAError.compilation(program: name, options: options, log: log.isEmpty ? message(result) : log) }
        var size = 0
        switch output {
        case .cubin:
            result = api.nvrtcGetCUBINSize(program, &size)
            guard result == 0 else { throw CUDAError.nvrtc(call: "nvrtcGetCUBINSize", message: message(result)) }
        case .ptx:
            result = api.nvrtcGetPTXSize(program, &size)
            guard result == 0 else { throw CUDAError.nvrtc(call: "nvrtcGetPTXSize", message: message(result)) }
        }
        var bytes = [UInt8](repeating: 0, count: size)
        result = bytes.withUnsafeMutableBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: size) {
                output == .cubin ? api.nvrtcGetCUBIN(program, $0) : api.nvrtcGetPTX(program, $0)
            }
        }
        guard result == 0 else { throw CUDAError.nvrtc(call: "nvrtcGet\(output == .cubin ? "CUBIN" : "PTX")", message: message(result)) }
        return bytes
    }

    /// `compile`, through the on-disk cache in `folder` (written atomically: temp file + rename).
    public func compileCached(_ source: String, name: String, architecture: String, folder: URL) throws -> [UInt8] {
        let key = cacheKey(source, architecture: architecture)
        let file = folder.appendingPathComponent("\(name)-\(architecture)-\(key).cubin")
        if let data = try? Data(contentsOf: file), !data.isEmpty { return [UInt8](data) }
        let cubin = try compile(source, name: name, architecture: architecture)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let part = folder.appendingPathComponent(".\(file.lastPathComponent).\(getpid()).part")
        if (try? Data(cubin).write(to: part)) != nil {
            if rename(part.path, file.path) != 0 { try? FileManager.default.removeItem(at: part) }
        }
        return cubin
    }

    /// FNV-1a over the source, the options and NVRTC's version: the cache file's name.
    public func cacheKey(_ source: String, architecture: String) -> String {
        let text = source + "\u{0}" + Self.options(architecture: architecture, output: .cubin).joined(separator: " ") + "\u{0}nvrtc \(version.major).\(version.minor)"
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(format: "%016llx", hash)
    }

    /// The default cache folder: $LLMREC_HOME/cuda-kernels (next to the fetched assets).
    public static var cacheFolder: URL { Assets.home.appendingPathComponent("cuda-kernels") }

    private func programLog(_ program: llmrec_nvrtc_program) -> String {
        var size = 0
        guard api.nvrtcGetProgramLogSize(program, &size) == 0, size > 1 else { return "" }
        var log = [CChar](repeating: 0, count: size)
        guard api.nvrtcGetProgramLog(program, &log) == 0 else { return "" }
        return String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func message(_ result: llmrec_nvrtc_result) -> String { Self.message(api, result) }

    private static func message(_ api: llmrec_nvrtc, _ result: llmrec_nvrtc_result) -> String {
        api.nvrtcGetErrorString(result).map { String(cString: $0) } ?? "NVRTC error \(result)"
    }
}
