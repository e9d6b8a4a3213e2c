// The model passes a constrained beam search makes, apart from where they run: encode the prompts,
// advance beams by a token (each beam continuing its prompt's keys and values and its own), copy
// beams' continuations when beams are re-selected, and the full-vocabulary logits of hidden rows.
// The selection rules, the trie and the step scores stay in ConstrainedBeamSearch and StepScorer.
// CPUBeamPasses runs them on the CPU; Sources/CUDAModel has the GPU's.
import CausalLM
import Foundation
import Kernels

/// The passes of one search (its caches live as long as it does).
public protocol BeamSession: AnyObject {
    /// New beam slot j continues old beam slot parents[j]: its first lengths[j] positions.
    func reselect(parents: [Int], lengths: [Int]) throws
    /// Advances every row's beam by its token; returns the final-normed hidden states (rows, C).
    func advance(_ rows: [BeamRow]) throws -> [Float]
}

public protocol BeamPasses: Sendable {
    var config: ModelConfig { get }
    /// Caches for the prompts and `beams` beams of up to `depth` tokens each; encodes the prompts
    /// and returns, with the session, the final-normed hidden state of each prompt's last position (U, C).
    func start(prompts: [[Int32]], beams: Int, depth: Int) throws -> (session: BeamSession, hidden: [Float])
    /// The logits (rows, V) of final-normed hidden rows, and each row's log-sum-exp.
    func logits(_ hidden: [Float], rows: Int) throws -> (logits: [Float], lse: [Float])
}

/// The passes on the CPU: DecoderModel's forward and forwardBeams, with the weights packed for
/// the panel kernel when the CPU has one, and the shared instruction header encoded once.
public final class CPUBeamPasses: BeamPasses, @unchecked Sendable {
    public let model: DecoderModel
    /// The model's weights packed for the panel kernel (nil in fp32 without AVX-512): a snapshot
    /// taken here, so the passes are built after the model's weights are final.
    let packed: InferenceWeights?
    /// The shared header's keys and values (one slot), and its tokens.
    let header: (cache: KVCache, tokens: [Int32])?

    public init(model: DecoderModel, sharedPrefix: [Int32] = [], precision: Precision = .fp32) {
        self.model = model
        let packed = InferenceWeights.packed(model, precision: precision)
        self.packed = packed
        header = sharedPrefix.isEmpty ? nil : {
            let cache = KVCache(config: model.config, slots: 1, capacity: sharedPrefix.count)
            guard (try? model.forward([sharedPrefix], cache: cache, hiddenOnly: true, packed: packed)) != nil else { return nil }
            return (cache, sharedPrefix)
        }()
    }

    public var config: ModelConfig { model.config }

    final class Session: BeamSession {
        let passes: CPUBeamPasses
        let cache: BeamKVCache
        init(passes: CPUBeamPasses, cache: BeamKVCache) { self.passes = passes; self.cache = cache }
        func reselect(parents: [Int], lengths: [Int]) { cache.reselect(parents: parents, lengths: lengths) }
        func advance(_ rows: [BeamRow]) throws -> [Float] { try passes.model.forwardBeams(rows, cache: cache, packed: passes.packed) }
    }

    public func start(prompts: [[Int32]], beams: Int, depth: Int) throws -> (session: BeamSession, hidden: [Float]) {
        let cache = BeamKVCache(config: model.config, prompts: prompts.count, promptCapacity: prompts.map(\.count).max()!, beams: beams, depth: depth)
        return (Session(passes: self, cache: cache), try encode(prompts, into: cache.prompts))
    }

    /// Encodes the prompts into their cache slots (continuing the shared header where a prompt
    /// begins with it) and returns the final-normed hidden state of each one's last position.
    func encode(_ prompts: [[Int32]], into cache: KVCache) throws -> [Float] {
        var rest = prompts
        if let (headerCache, tokens) = header {
            for (u, p) in prompts.enumerated() where p.count > tokens.count && p.starts(with: tokens) {
                cache.start(u, withPrefixOf: headerCache, slot: 0, length: tokens.count)
                rest[u] = Array(p[tokens.count...])
            }
        }
        return try model.forward(rest, cache: cache, logits: .last, hiddenOnly: true, packed: packed)
    }

    public func logits(_ hidden: [Float], rows: Int) -> (logits: [Float], lse: [Float]) {
        let logits = hidden.withUnsafeBufferPointer { model.headLogits($0.baseAddress!, rows: rows, packed: packed) }
        return (logits, logits.withUnsafeBufferPointer { logSumExpRows($0.baseAddress!, rows: rows, model.config.vocabSize) })
    }
}
