// All parameters in one flat Float32 buffer, with a named view per tensor, in the way of
// llm.c's ParameterTensors: the size table is built once from the config, and the optimiser
// (AdamW) treats the whole model as one vector. Matrices are (out, in) row-major.

public struct TensorSlot: Sendable, Equatable {
    public let offset: Int
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }
}

/// Our names for the tensors of one layer and of the whole model.
public enum LayerTensor: String, CaseIterable, Sendable {
    case attnNorm, wq, bq, wk, bk, wv, bv, wo, mlpNorm, wGate, wUp, wDown
}

public enum GlobalTensor: String, CaseIterable, Sendable {
    case embedding, finalNorm, lmHead
}

public struct ParameterLayout: Sendable {
    public private(set) var layers: [[LayerTensor: TensorSlot]] = []
    public private(set) var globals: [GlobalTensor: TensorSlot] = [:]
    public private(set) var count = 0

    public init(_ cfg: ModelConfig) {
        let (C, H, V) = (cfg.hiddenSize, cfg.intermediateSize, cfg.vocabSize)
        let q = cfg.heads * cfg.headDim, kv = cfg.kvHeads * cfg.headDim
        globals[.embedding] = add([V, C])
        for _ in 0..<cfg.layers {
            var l: [LayerTensor: TensorSlot] = [:]
            l[.attnNorm] = add([C])
            // Wq, Wk, Wv adjacent (and bq, bk, bv): the forward pass runs them as one (q+2kv, C) product.
            l[.wq] = add([q, C])
            l[.wk] = add([kv, C])
            l[.wv] = add([kv, C])
            if cfg.attentionBias {
                l[.bq] = add([q])
                l[.bk] = add([kv])
                l[.bv] = add([kv])
            }
            l[.wo] = add([C, q])
            l[.mlpNorm] = add([C])
            // Wgate, Wup adjacent: one (2H, C) product.
            l[.wGate] = add([H, C])
            l[.wUp] = add([H, C])
            l[.wDown] = add([C, H])
            layers.append(l)
        }
        globals[.finalNorm] = add([C])
        if !cfg.tieWordEmbeddings { globals[.lmHead] = add([V, C]) }
    }

    private mutating func add(_ shape: [Int]) -> TensorSlot {
        let slot = TensorSlot(offset: count, shape: shape)
        count += slot.count
        return slot
    }
}

/// The parameter buffer: one allocation, freed with the model. Loaders write every tensor
/// (they check that each is present), so it is not zeroed first: that would touch 0.5 GB twice.
public final class ParameterBuffer: @unchecked Sendable {
    public let count: Int
    public let data: UnsafeMutablePointer<Float>

    public init(count: Int, zeroed: Bool) {
        self.count = count
        data = .allocate(capacity: max(count, 1))
        if zeroed { data.initialize(repeating: 0, count: count) }
    }

    deinit { data.deallocate() }

    public func view(_ slot: TensorSlot) -> UnsafeMutablePointer<Float> { data + slot.offset }
}
