// One GPU through the CUDA driver API: its primary context, device memory, the kernel program
// (compiled by NVRTC for its architecture on first use, then cached), launches and cuBLAS.
// Every call's result is checked; a failed call throws with the driver's own message.
import CCUDA
import Foundation

public final class CUDADevice: @unchecked Sendable {
    public let libraries: CUDALibraries
    public let ordinal: Int
    public let name: String
    public let computeCapability: (major: Int, minor: Int)
    public let multiprocessors: Int
    public let memoryBytes: Int
    public let driverVersion: Int
    let context: llmrec_cu_context
    private var functions: [String: llmrec_cu_function] = [:]
    private let lock = NSLock()
    let cublasHandle: llmrec_cublas_handle
    /// When set, every launch and product is timed into it (see CUDAProfile); nil in normal runs.
    public var profile: CUDAProfile?

    /// "sm_90" for compute capability 9.0: NVRTC's name for the card's architecture.
    public var architecture: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }

    /// Opens GPU `ordinal`. Throws `CUDAError` naming what is missing when there is no driver or GPU.
    public init(ordinal: Int = 0) throws {
        libraries = try CUDALibraries.shared()
        let d = libraries.driver
        try Self.check(d, "cuInit", d.cuInit(0))
        var count: Int32 = 0
        try Self.check(d, "cuDeviceGetCount", d.cuDeviceGetCount(&count))
        guard ordinal >= 0, ordinal < Int(count) else { throw CUDAError.noDevice(ordinal: ordinal, count: Int(count)) }
        self.ordinal = ordinal
        var device: llmrec_cu_device = 0
        try Self.check(d, "cuDeviceGet", d.cuDeviceGet(&device, Int32(ordinal)))
        var nameBuffer = [CChar](repeating: 0, count: 256)
        try Self.check(d, "cuDeviceGetName", d.cuDeviceGetName(&nameBuffer, 255, device))
        name = String(decoding: nameBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        func attribute(_ a: Int32) throws -> Int {
            var v: Int32 = 0
            try Self.check(d, "cuDeviceGetAttribute(\(a))", d.cuDeviceGetAttribute(&v, a, device))
            return Int(v)
        }
        computeCapability = (try attribute(75), try attribute(76))
        multiprocessors = try attribute(16)
        var bytes = 0
        try Self.check(d, "cuDeviceTotalMem", d.cuDeviceTotalMem(&bytes, device))
        memoryBytes = bytes
        var version: Int32 = 0
        try Self.check(d, "cuDriverGetVersion", d.cuDriverGetVersion(&version))
        driverVersion = Int(version)
        var ctx: llmrec_cu_context?
        try Self.check(d, "cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain(&ctx, device))
        context = ctx!
        try Self.check(d, "cuCtxSetCurrent", d.cuCtxSetCurrent(context))
        var handle: llmrec_cublas_handle?
        try Self.checkBLAS(libraries.cublas, "cublasCreate", libraries.cublas.cublasCreate(&handle))
        cublasHandle = handle!
        // Plain fp32 products: no TF32 (the parity checks compare with PyTorch with TF32 off).
        try Self.checkBLAS(libraries.cublas, "cublasSetMathMode", libraries.cublas.cublasSetMathMode(cublasHandle, 0))
    }

    /// Makes this device's context current on the calling thread: the driver's state is per
    /// thread, and evaluation and serving call from threads of their own. Every entry point that
    /// talks to the device calls it (a thread-local store in the driver).
    public func makeCurrent() throws { try check("cuCtxSetCurrent", libraries.driver.cuCtxSetCurrent(context)) }

    public func synchronize() throws { try makeCurrent(); try check("cuCtxSynchronize", libraries.driver.cuCtxSynchronize()) }

    // MARK: memory

    /// `count` values of T on the device: a pooled block of at least the size (at most twice it),
    /// else a new one; when the device is full, the pool is handed back to the driver and the
    /// allocation tried once more.
    public func allocate<T>(_ type: T.Type, count: Int) throws -> DeviceBuffer<T> {
        try makeCurrent()
        let wanted = Self.blockSize(max(count, 1) * MemoryLayout<T>.stride)
        if let (address, bytes) = lock.withLock({ takePooled(wanted) }) {
            return DeviceBuffer(device: self, address: address, count: count, bytes: bytes)
        }
        var address: llmrec_cu_deviceptr = 0
        var result = libraries.driver.cuMemAlloc(&address, wanted)
        if result == Self.outOfMemory {
            try synchronize()
            lock.withLock {
                for blocks in pool.values { for b in blocks { _ = libraries.driver.cuMemFree(b) } }
                pool = [:]
            }
            result = libraries.driver.cuMemAlloc(&address, wanted)
        }
        try check("cuMemAlloc(\(wanted) bytes)", result)
        return DeviceBuffer(device: self, address: address, count: count, bytes: wanted)
    }

    static let outOfMemory: llmrec_cu_result = 2

    /// Freed device memory, kept for reuse by size: cuMemAlloc and cuMemFree cost far more than a
    /// kernel (cuMemFree waits for the device), and training and decoding ask for similar sizes
    /// step after step. Reuse is safe because every launch, copy and product runs on the one
    /// default stream, in order: a block's next user runs after its last one.
    private var pool: [Int: [UInt64]] = [:]

    /// The smallest pooled block of `bytes` to 2 × `bytes` (caller holds the lock).
    private func takePooled(_ bytes: Int) -> (UInt64, Int)? {
        guard let size = pool.keys.filter({ $0 >= bytes && $0 <= 2 * bytes && !(pool[$0]?.isEmpty ?? true) }).min() else { return nil }
        return (pool[size]!.removeLast(), size)
    }

    /// Sizes are rounded up, to a power of two below 1 MiB and to whole MiB above, so that
    /// near-equal requests share blocks.
    static func blockSize(_ bytes: Int) -> Int {
        let mib = 1 << 20
        if bytes >= mib { return (bytes + mib - 1) / mib * mib }
        var size = 256
        while size < bytes { size <<= 1 }
        return size
    }

    func release(_ address: UInt64, bytes: Int) { lock.withLock { pool[bytes, default: []].append(address) } }

    /// A device copy of `values`.
    public func upload<T>(_ values: [T]) throws -> DeviceBuffer<T> {
        let buffer = try allocate(T.self, count: values.count)
        try buffer.copy(from: values)
        return buffer
    }

    // MARK: kernels

    /// The kernel program's function `name`, compiling and loading the program on first use.
    func function(_ name: String) throws -> llmrec_cu_function {
        lock.lock()
        defer { lock.unlock() }
        if let f = functions[name] { return f }
        let compiler = try NVRTCCompiler()
        let cubin = try compiler.compileCached(KernelProgram.source, name: "llmrec_kernels", architecture: architecture,
                                               folder: NVRTCCompiler.cacheFolder)
        var module: llmrec_cu_module?
        try cubin.withUnsafeBytes { try check("cuModuleLoadData", libraries.driver.cuModuleLoadData(&module, $0.baseAddress)) }
        for kernel in KernelProgram.all {
            var f: llmrec_cu_function?
            try check("cuModuleGetFunction(\(kernel.name))", libraries.driver.cuModuleGetFunction(&f, module, kernel.name))
            functions[kernel.name] = f
        }
        guard let f = functions[name] else { throw CUDAError.launch(kernel: name, reason: "the kernel program has no such kernel") }
        return f
    }

    /// Launches kernel `name` on `grid` blocks of `block` threads, after checking the arguments
    /// against its declared parameters. `sharedBytes`: dynamic shared memory per block.
    public func launch(_ name: String, grid: (x: Int, y: Int), block: Int, sharedBytes: Int = 0, _ values: [KernelArguments.Value]) throws {
        guard let kernel = KernelProgram.kernel(name) else { throw CUDAError.launch(kernel: name, reason: "no such kernel") }
        let arguments = KernelArguments(values)
        try kernel.check(arguments)
        guard grid.x > 0, grid.y > 0 else { return }
        guard block > 0, block <= 1024, block % 32 == 0 else {
            throw CUDAError.launch(kernel: name, reason: "block of \(block) threads: must be a multiple of 32 up to 1024")
        }
        try makeCurrent()
        let f = try function(name)
        // Dynamic shared memory beyond 48 KB less the kernels' static 128 bytes (block_reduce) must
        // be asked for, per function; raised only, under the lock, as threads may launch at once.
        if sharedBytes + 128 > 48 * 1024 {
            try lock.withLock {
                guard sharedBytes > (sharedLimits[name] ?? 0) else { return }
                try check("cuFuncSetAttribute(\(name), max dynamic shared memory \(sharedBytes))", libraries.driver.cuFuncSetAttribute(f, 8, Int32(sharedBytes)))
                sharedLimits[name] = sharedBytes
            }
        }
        let run = {
            try withExtendedLifetime(arguments) {
                try self.check("cuLaunchKernel(\(name))", self.libraries.driver.cuLaunchKernel(
                    f, UInt32(grid.x), UInt32(grid.y), 1, UInt32(block), 1, 1, UInt32(sharedBytes), nil, arguments.pointers, nil))
            }
        }
        if let profile { try profile.time(name, device: self, run) } else { try run() }
    }

    /// The dynamic shared memory each kernel has been allowed so far (above the default).
    private var sharedLimits: [String: Int] = [:]

    /// Enough blocks of `block` threads for a grid-stride loop over `count` elements.
    public func strideGrid(_ count: Int, block: Int = 256) -> Int { max(1, min((count + block - 1) / block, multiprocessors * 32)) }

    // MARK: errors

    func check(_ call: String, _ result: llmrec_cu_result) throws { try Self.check(libraries.driver, call, result) }

    static func check(_ d: llmrec_cuda_driver, _ call: String, _ result: llmrec_cu_result) throws {
        guard result != 0 else { return }
        var name: UnsafePointer<CChar>?, text: UnsafePointer<CChar>?
        _ = d.cuGetErrorName(result, &name)
        _ = d.cuGetErrorString(result, &text)
        let message = [name, text].compactMap { $0.map { String(cString: $0) } }.joined(separator: ": ")
        throw CUDAError.driver(call: call, code: result, message: message.isEmpty ? "unknown error" : message)
    }

    static func checkBLAS(_ b: llmrec_cublas, _ call: String, _ status: llmrec_cublas_status) throws {
        guard status != 0 else { return }
        throw CUDAError.cublas(call: call, status: status, message: b.cublasGetStatusString(status).map { String(cString: $0) } ?? "unknown status")
    }
}

/// `count` values of T in device memory, freed with the buffer.
public final class DeviceBuffer<T>: @unchecked Sendable {
    public let device: CUDADevice
    public let address: UInt64
    public let count: Int

    /// The size of the device block (the pool's size class).
    let bytes: Int

    init(device: CUDADevice, address: UInt64, count: Int, bytes: Int) {
        self.device = device
        self.address = address
        self.count = count
        self.bytes = bytes
    }

    /// Back to the device's pool (the memory stays with the process until it ends).
    deinit { device.release(address, bytes: bytes) }

    public var argument: KernelArguments.Value { .pointer(address) }
    /// The address of element `offset`, for a kernel argument that starts inside the buffer.
    public func argument(at offset: Int) -> KernelArguments.Value { .pointer(address + UInt64(offset * MemoryLayout<T>.stride)) }

    public func copy(from values: [T]) throws {
        precondition(values.count <= count, "\(values.count) values into a buffer of \(count)")
        try device.makeCurrent()
        try values.withUnsafeBytes { try device.check("cuMemcpyHtoD", device.libraries.driver.cuMemcpyHtoD(address, $0.baseAddress, $0.count)) }
    }

    /// Fills every 4-byte word with `bits` (e.g. a NaN pattern, to show which outputs a kernel left unwritten).
    public func fill(bits: UInt32) throws {
        precondition(MemoryLayout<T>.stride % 4 == 0, "fill(bits:) needs 4-byte elements")
        try device.makeCurrent()
        try device.check("cuMemsetD32", device.libraries.driver.cuMemsetD32(address, bits, count * MemoryLayout<T>.stride / 4))
    }

    public func download() throws -> [T] {
        try device.makeCurrent()
        return try [T](unsafeUninitializedCapacity: count) { b, n in
            try device.check("cuMemcpyDtoH", device.libraries.driver.cuMemcpyDtoH(b.baseAddress, address, count * MemoryLayout<T>.stride))
            n = count
        }
    }
}
