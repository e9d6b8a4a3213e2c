// LoRA (Hu et al., 2021) as PEFT computes it: a frozen linear layer y = x·Wᵀ gets a trained
// low-rank update  y += (α/r) · dropout(x)·Aᵀ·Bᵀ  with A (r, in) and B (out, r). A starts as in
// PEFT (Kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in)) and B at zero, so training starts
// from the base model exactly. Every adapter's A and B live in one flat buffer, like the model's
// parameters, so the optimiser and checkpoints treat them as one vector.
import Foundation
import Kernels
import Support

/// The linear layers LoRA can adapt, by their Hugging Face module names.
public enum LoRATarget: String, CaseIterable, Codable, Sendable {
    case qProj = "q_proj", kProj = "k_proj", vProj = "v_proj", oProj = "o_proj"
    case gateProj = "gate_proj", upProj = "up_proj", downProj = "down_proj"

    /// The MSL paper's choice (and PEFT's for Llama): the query and value projections.
    public static let defaults: [LoRATarget] = [.qProj, .vProj]

    public var tensor: LayerTensor {
        switch self {
        case .qProj: .wq
        case .kProj: .wk
        case .vProj: .wv
        case .oProj: .wo
        case .gateProj: .wGate
        case .upProj: .wUp
        case .downProj: .wDown
        }
    }

    /// The module's path inside a decoder layer, as in PEFT's tensor names.
    public var module: String {
        switch self {
        case .qProj, .kProj, .vProj, .oProj: "self_attn.\(rawValue)"
        case .gateProj, .upProj, .downProj: "mlp.\(rawValue)"
        }
    }

    /// (inputs, outputs) of the adapted layer.
    public func shape(_ cfg: ModelConfig) -> (inputs: Int, outputs: Int) {
        let (C, H, q, kv) = (cfg.hiddenSize, cfg.intermediateSize, cfg.heads * cfg.headDim, cfg.kvHeads * cfg.headDim)
        switch self {
        case .qProj: return (C, q)
        case .kProj, .vProj: return (C, kv)
        case .oProj: return (q, C)
        case .gateProj, .upProj: return (C, H)
        case .downProj: return (H, C)
        }
    }
}

public struct LoRASettings: Sendable, Codable, Equatable {
    public var rank = 8
    public var alpha = 16.0
    public var dropout = 0.05
    public var targets = LoRATarget.defaults

    /// `alpha` defaults to twice the rank (16 for rank 8, as in the MSL and BIGRec setups).
    public init(rank: Int = 8, alpha: Double? = nil, dropout: Double = 0.05, targets: [LoRATarget] = LoRATarget.defaults) {
        self.rank = rank
        self.alpha = alpha ?? Double(2 * rank)
        self.dropout = dropout
        self.targets = targets
    }

    /// The update's scale α / r.
    public var scale: Float { Float(alpha / Double(rank)) }
}

public enum LoRAError: Error, CustomStringConvertible {
    case invalid(String)
    case badAdapterFile(String, String)

    public var description: String {
        switch self {
        case .invalid(let what): "LoRA: \(what)"
        case .badAdapterFile(let file, let what): "\(file): \(what)"
        }
    }
}

/// The adapters of every layer for one model: A and B per (layer, target), in one buffer.
public final class LoRAAdapter: @unchecked Sendable {
    public struct Slots: Sendable {
        public let a: TensorSlot, b: TensorSlot
    }
    public let settings: LoRASettings
    /// slots[layer][target]
    public let slots: [[LoRATarget: Slots]]
    public let parameters: ParameterBuffer
    let config: ModelConfig

    /// New adapters for `config`, A drawn from `seed`, B zero.
    public init(settings: LoRASettings, config: ModelConfig, seed: UInt64) throws {
        guard settings.rank >= 1 else { throw LoRAError.invalid("rank must be at least 1, got \(settings.rank)") }
        guard settings.alpha > 0, settings.alpha.isFinite else { throw LoRAError.invalid("alpha must be positive, got \(settings.alpha)") }
        guard settings.dropout >= 0, settings.dropout < 1 else { throw LoRAError.invalid("dropout must be in [0, 1), got \(settings.dropout)") }
        guard !settings.targets.isEmpty else { throw LoRAError.invalid("no target modules") }
        guard Set(settings.targets).count == settings.targets.count else {
            throw LoRAError.invalid("target modules repeat: \(settings.targets.map(\.rawValue))")
        }
        self.settings = settings
        self.config = config
        var all: [[LoRATarget: Slots]] = []
        var count = 0
        for _ in 0..<config.layers {
            var layer: [LoRATarget: Slots] = [:]
            for t in settings.targets {
                let (i, o) = t.shape(config)
                let a = TensorSlot(offset: count, shape: [settings.rank, i])
                let b = TensorSlot(offset: count + a.count, shape: [o, settings.rank])
                count += a.count + b.count
                layer[t] = Slots(a: a, b: b)
            }
            all.append(layer)
        }
        slots = all
        parameters = ParameterBuffer(count: count, zeroed: true)
        var rng = SeededGenerator(seed: seed)
        for layer in slots {
            for t in settings.targets {
                let a = layer[t]!.a
                let bound = 1 / Double(a.shape[1]).squareRoot()
                let p = parameters.view(a)
                for k in 0..<a.count { p[k] = Float(Double.random(in: -bound..<bound, using: &rng)) }
            }
        }
    }

    /// The seed of the dropout mask of adapter (layer, target) in a pass whose seed is `pass`
    /// (the same on every backend, so that masks are too).
    public static func dropoutSeed(pass: UInt64, layer l: Int, target t: LoRATarget) -> UInt64 {
        let index = UInt64(l * LoRATarget.allCases.count + LoRATarget.allCases.firstIndex(of: t)!)
        return pass &+ (index &+ 1) &* 0x9E37_79B9_7F4A_7C15
    }

    /// Adds each update into the base weights: W += (α/r) · B·A. The model then computes what the
    /// adapted model does (without dropout, as at inference), with no extra cost per token.
    public func merge(into model: DecoderModel) {
        precondition(model.config == config, "the adapters were made for another model")
        let r = settings.rank
        for (l, layer) in slots.enumerated() {
            for (t, s) in layer {
                let (i, o) = t.shape(config)
                lowRankMerge(model.w(t.tensor, l), a: parameters.view(s.a), b: parameters.view(s.b), scale: settings.scale, C: i, OC: o, rank: r)
            }
        }
    }

    /// PEFT's name of each tensor: base_model.model.model.layers.{l}.{module}.lora_{A,B}.weight.
    public func peftNames() -> [(name: String, slot: TensorSlot)] {
        var out: [(String, TensorSlot)] = []
        for (l, layer) in slots.enumerated() {
            for t in settings.targets {
                let prefix = "base_model.model.model.layers.\(l).\(t.module)"
                out.append(("\(prefix).lora_A.weight", layer[t]!.a))
                out.append(("\(prefix).lora_B.weight", layer[t]!.b))
            }
        }
        return out
    }
}
