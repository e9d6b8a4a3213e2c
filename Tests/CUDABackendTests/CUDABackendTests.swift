// The CUDA backend's host side, on a machine without a GPU: finding the libraries (and saying
// clearly when they are missing), binding entry points, declaring and packing kernel arguments,
// and compiling the kernel program with the real NVRTC (fetched by scripts/fetch-assets.sh --nvrtc).
import CCUDA
@testable import CUDABackend
import Foundation
import Support
import Testing

@Suite struct CUDALibraryTests {
    @Test func aMissingLibraryNamesEveryPlaceTried() throws {
        do {
            _ = try CUDALibrary.open("CUDA driver", fileNames: ["libllmrec-absent.so.1", "libllmrec-absent.so"], folders: ["/nonexistent/lib"])
            Issue.record("opened a library that does not exist")
        } catch let error as CUDAError {
            guard case .libraryNotFound(let library, let tried) = error else { Issue.record("\(error)"); return }
            #expect(library == "CUDA driver")
            #expect(tried.count == 4)
            #expect(tried[0].hasPrefix("/nonexistent/lib/libllmrec-absent.so.1: "))
            #expect(tried[3].hasPrefix("libllmrec-absent.so: "))
            #expect(error.description.contains("LLMREC_CUDA_PATH"))
        }
    }

    @Test func aLibraryWithoutTheEntryPointsIsNamedWithTheFirstMissingOne() throws {
        // libc opens everywhere and has none of cuBLAS's entry points.
        let (handle, _) = try CUDALibrary.open("C library", fileNames: ["libc.so.6"], folders: [])
        var table = llmrec_cublas()
        let missing = llmrec_bind_cublas(handle, &table).map { String(cString: $0) }
        #expect(missing == "cublasCreate_v2")
        // ... and it has dlsym itself, so binding does find what exists: a table of one real symbol.
        #expect(dlsym(handle, "dlsym") != nil)
    }

    @Test func withoutADriverTheDeviceSaysWhatIsMissing() throws {
        guard (try? CUDALibrary.driver.open()) == nil else {
            print("skipped: this machine has a CUDA driver (llmrec cuda check runs the GPU side)")
            return
        }
        #expect(throws: CUDAError.self) { try CUDADevice() }
        do { _ = try CUDADevice() } catch {
            #expect("\(error)".contains("no usable CUDA driver library was found"))
            #expect("\(error)".contains("libcuda.so.1"))
        }
    }

    @Test func searchFoldersComeFromTheEnvironmentThenTheAssetCache() {
        let folders = CUDALibrary.searchFolders(["LLMREC_CUDA_PATH": "/a/lib::/b/lib64"])
        #expect(folders == ["/a/lib", "/b/lib64", Assets.home.appendingPathComponent("cuda").path])
    }
}

@Suite struct KernelDeclarationTests {
    @Test func declarationsAreGeneratedFromTheParameters() throws {
        let k = try #require(KernelProgram.kernel("add_in_place"))
        #expect(k.declaration == "extern \"C\" __global__ void add_in_place(float *x, const float *y, long long n)")
        #expect(KernelProgram.source.contains(k.declaration + " {"))
    }

    @Test func kernelNamesAreUniqueAndEveryParameterIsUsedInItsBody() {
        let names = KernelProgram.all.map(\.name)
        #expect(Set(names).count == names.count)
        for kernel in KernelProgram.all {
            for p in kernel.parameters {
                let used = kernel.body.range(of: "\\b\(p.name)\\b", options: .regularExpression) != nil
                #expect(used, "\(kernel.name): parameter \(p.name) is never used, so the declaration and the body disagree")
            }
        }
    }

    @Test func argumentsArePackedOnePerSlotAndReadBackAsWritten() {
        let args = KernelArguments([.pointer(0xDEAD_BEEF_0000), .int32(-7), .float(1.5), .int64(1 << 40)])
        #expect(args.pointers[0]!.load(as: UInt64.self) == 0xDEAD_BEEF_0000)
        #expect(args.pointers[1]!.load(as: Int32.self) == -7)
        #expect(args.pointers[2]!.load(as: Float.self) == 1.5)
        #expect(args.pointers[3]!.load(as: Int64.self) == 1 << 40)
        for i in 0..<4 { #expect(Int(bitPattern: args.pointers[i]) % 8 == 0) }
    }

    @Test func argumentsThatDoNotFitTheKernelAreRefusedWithTheParameterName() throws {
        let k = try #require(KernelProgram.kernel("add_in_place"))
        try k.check(KernelArguments([.pointer(1), .pointer(2), .int64(3)]))
        #expect(throws: CUDAError.launch(kernel: "add_in_place", reason: "it takes 3 arguments, 2 given")) {
            try k.check(KernelArguments([.pointer(1), .pointer(2)]))
        }
        #expect(throws: CUDAError.launch(kernel: "add_in_place", reason: "parameter n is long long, given an int 3")) {
            try k.check(KernelArguments([.pointer(1), .pointer(2), .int32(3)]))
        }
    }
}

/// These need NVRTC (scripts/fetch-assets.sh --nvrtc, which CI runs); without it they say so and pass.
@Suite struct NVRTCCompileTests {
    static func compiler() -> NVRTCCompiler? {
        do { return try NVRTCCompiler() } catch {
            print("skipped: NVRTC not found (run scripts/fetch-assets.sh --nvrtc): \(error)")
            return nil
        }
    }

    @Test(arguments: ["sm_80", "sm_90"])
    func theKernelProgramCompilesToMachineCode(architecture: String) throws {
        guard let nvrtc = Self.compiler() else { return }
        let cubin = try nvrtc.compile(KernelProgram.source, name: KernelProgram.name, architecture: architecture)
        #expect(Array(cubin.prefix(4)) == [0x7F, 0x45, 0x4C, 0x46], "a cubin is an ELF file")
        // Every kernel is in it under its unmangled name (the driver looks them up by name).
        let text = String(decoding: cubin.map { $0 == 0 ? 10 : $0 }, as: UTF8.self)
        for kernel in KernelProgram.all { #expect(text.contains(".text.\(kernel.name)\n"), "\(kernel.name) missing from the cubin") }
    }

    @Test func theKernelProgramCompilesToPTXWithOneEntryPerKernel() throws {
        guard let nvrtc = Self.compiler() else { return }
        let ptx = String(decoding: try nvrtc.compile(KernelProgram.source, name: KernelProgram.name, architecture: "sm_90", output: .ptx).filter { $0 != 0 }, as: UTF8.self)
        #expect(ptx.contains(".target sm_90"))
        for kernel in KernelProgram.all {
            #expect(ptx.contains(".entry \(kernel.name)("), "\(kernel.name) has no PTX entry")
        }
        // No local-memory spills in the kernels: they would be an order of magnitude slower.
        #expect(!ptx.contains(".local"), "a kernel uses local memory")
    }

    @Test func aCompileErrorCarriesNVRTCsLogWithTheLine() throws {
        guard let nvrtc = Self.compiler() else { return }
        let broken = "extern \"C\" __global__ void k(float *x) {\n x[0] = undefined_name;\n}\n"
        do {
            _ = try nvrtc.compile(broken, name: "broken.cu", architecture: "sm_90")
            Issue.record("a broken kernel compiled")
        } catch let CUDAError.compilation(program, _, log) {
            #expect(program == "broken.cu")
            #expect(log.contains("broken.cu(2)"))
            #expect(log.contains("undefined_name"))
        }
    }

    @Test func theCacheKeepsOneFilePerSourceAndReusesIt() throws {
        guard let nvrtc = Self.compiler() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-nvrtc-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = "extern \"C\" __global__ void k(float *x) { x[threadIdx.x] *= 2.0f; }\n"
        let first = try nvrtc.compileCached(source, name: "k", architecture: "sm_90", folder: folder)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(files.count == 1)
        #expect(try nvrtc.compileCached(source, name: "k", architecture: "sm_90", folder: folder) == first)
        _ = try nvrtc.compileCached(source + "\n", name: "k", architecture: "sm_90", folder: folder)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).count == 2, "a changed source gets its own file")
        #expect(nvrtc.cacheKey(source, architecture: "sm_90") != nvrtc.cacheKey(source, architecture: "sm_80"))
    }
}
