// A kernel as llmrec declares it: its name, its typed parameters and its body. The C declaration
// is generated from the parameter list, and every launch is checked against the same list, so
// the Swift side and the CUDA C side cannot drift apart.
import Foundation

/// The C type of one kernel parameter.
public enum KernelParameterType: String, Sendable {
    case floats = "float *"
    case constFloats = "const float *"
    case constInts = "const int *"
    case bf16s = "unsigned short *"
    case int32 = "int"
    case int64 = "long long"
    case float = "float"

    var isPointer: Bool { self == .floats || self == .constFloats || self == .constInts || self == .bf16s }
}

public struct KernelParameter: Sendable {
    public let name: String
    public let type: KernelParameterType
    public init(_ name: String, _ type: KernelParameterType) { self.name = name; self.type = type }
}

public struct Kernel: Sendable {
    public let name: String
    public let parameters: [KernelParameter]
    /// The statements inside the braces, CUDA C.
    public let body: String

    public init(_ name: String, _ parameters: [KernelParameter], body: String) {
        self.name = name
        self.parameters = parameters
        self.body = body
    }

    /// `extern "C" __global__ void name(float *out, int n)`: unmangled, so the driver finds it by name.
    public var declaration: String {
        "extern \"C\" __global__ void \(name)(\(parameters.map { "\($0.type.rawValue)\($0.type.isPointer ? "" : " ")\($0.name)" }.joined(separator: ", ")))"
    }

    public var source: String { "\(declaration) {\n\(body)\n}\n" }

    /// Checks `arguments` against the parameters: their number and, one by one, their kinds.
    public func check(_ arguments: KernelArguments) throws {
        guard arguments.values.count == parameters.count else {
            throw CUDAError.launch(kernel: name, reason: "it takes \(parameters.count) arguments, \(arguments.values.count) given")
        }
        for (p, a) in zip(parameters, arguments.values) where !a.fits(p.type) {
            throw CUDAError.launch(kernel: name, reason: "parameter \(p.name) is \(p.type.rawValue), given \(a)")
        }
    }
}

/// One launch's argument values, each in its own 8-byte slot of one buffer, and the array of
/// pointers to them that cuLaunchKernel reads (each value read with its parameter's size).
public final class KernelArguments: @unchecked Sendable {
    public enum Value: Sendable, CustomStringConvertible {
        case pointer(UInt64), int32(Int32), int64(Int64), float(Float)

        func fits(_ type: KernelParameterType) -> Bool {
            switch self {
            case .pointer: type.isPointer
            case .int32: type == .int32
            case .int64: type == .int64
            case .float: type == .float
            }
        }

        public var description: String {
            switch self {
            case .pointer(let p): "a device pointer 0x\(String(p, radix: 16))"
            case .int32(let v): "an int \(v)"
            case .int64(let v): "a long long \(v)"
            case .float(let v): "a float \(v)"
            }
        }
    }

    public let values: [Value]
    private let storage: UnsafeMutableRawPointer
    /// One pointer per argument, into `storage`.
    public let pointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    public init(_ values: [Value]) {
        self.values = values
        storage = .allocate(byteCount: max(values.count, 1) * 8, alignment: 8)
        pointers = .allocate(capacity: max(values.count, 1))
        for (i, v) in values.enumerated() {
            let slot = storage + i * 8
            switch v {
            case .pointer(let p): slot.storeBytes(of: p, as: UInt64.self)
            case .int32(let x): slot.storeBytes(of: x, as: Int32.self)
            case .int64(let x): slot.storeBytes(of: x, as: Int64.self)
            case .float(let x): slot.storeBytes(of: x, as: Float.self)
            }
            pointers[i] = slot
        }
    }

    deinit {
        storage.deallocate()
        pointers.deallocate()
    }
}
