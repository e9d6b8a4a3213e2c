// The decoder pass of a beam search: every beam of every prompt advances by one token at once,
// as one packed batch. Beams of a prompt share the prompt's keys and values (written once by
// the prompt's own forward pass into `prompts`); each beam holds only its own continuation (a
// title's few tokens) in `beams`. When beams are re-selected, a new beam copies its parent's
// continuation — a few positions, never the prompt.
import Foundation
import Kernels

public final class BeamKVCache: @unchecked Sendable {
    /// One slot per prompt.
    public let prompts: KVCache
    /// One slot per beam, holding its generated tokens; double-buffered for re-selection.
    private(set) var beams: KVCache
    private var spare: KVCache

    public init(config: ModelConfig, prompts: Int, promptCapacity: Int, beams: Int, depth: Int) {
        self.prompts = KVCache(config: config, slots: prompts, capacity: promptCapacity)
        self.beams = KVCache(config: config, slots: beams, capacity: depth)
        spare = KVCache(config: config, slots: beams, capacity: depth)
    }

    public var beamSlots: Int { beams.slots }
    public var depth: Int { beams.capacity }

    /// New beam slot j continues old beam slot parents[j]: copies its first `lengths[j]` positions.
    public func reselect(parents: [Int], lengths: [Int]) {
        let kvw = beams.rowWidth
        for l in beams.keys.indices {
            for (j, p) in parents.enumerated() where lengths[j] > 0 {
                (spare.keys[l] + j * beams.capacity * kvw).update(from: beams.keys[l] + p * beams.capacity * kvw, count: lengths[j] * kvw)
                (spare.values[l] + j * beams.capacity * kvw).update(from: beams.values[l] + p * beams.capacity * kvw, count: lengths[j] * kvw)
            }
        }
        swap(&beams, &spare)
    }
}

/// One beam advancing by one token: the prompt it continues and its own slot and length.
public struct BeamRow: Sendable {
    public var token: Int32
    public var prompt: Int
    public var promptLength: Int
    public var beam: Int
    /// Tokens the beam has generated before this one (this token's index in its continuation).
    public var generated: Int

    public init(token: Int32, prompt: Int, promptLength: Int, beam: Int, generated: Int) {
        self.token = token
        self.prompt = prompt
        self.promptLength = promptLength
        self.beam = beam
        self.generated = generated
    }
}

extension DecoderModel {
    /// Advances every beam by its token and returns the final-normed hidden states (rows, C),
    /// from which the caller computes the logits it needs.
    /// `packed`: the weights packed for the panel kernel, as in `forward`.
    public func forwardBeams(_ rows: [BeamRow], cache: BeamKVCache, packed: InferenceWeights? = nil) throws -> [Float] {
        let cfg = config
        let (C, V, NH, KVH, D) = (cfg.hiddenSize, cfg.vocabSize, cfg.heads, cfg.kvHeads, cfg.headDim)
        let N = rows.count
        guard N > 0 else { return [] }
        for r in rows {
            guard r.token >= 0, Int(r.token) < V else { throw ModelError.tokenOutOfRange(r.token, vocabulary: V) }
            guard r.generated < cache.depth, r.promptLength + r.generated < cfg.maxPositions else {
                throw ModelError.contextFull(slot: r.beam, needed: r.promptLength + r.generated + 1, capacity: min(cache.depth, cfg.maxPositions))
            }
            precondition(r.beam < cache.beamSlots && r.prompt < cache.prompts.slots && r.promptLength <= cache.prompts.lengths[r.prompt])
        }
        // Attention scratch: the rows of one prompt's beams × their widest key range.
        let widest = rows.map { $0.promptLength + $0.generated + 1 }.max()!
        let ws = workspace(N: N, scratch: widest * N)
        defer { workspaces.withLock { $0 = ws } }
        let x = ws.x
        embed(rows.map(\.token), into: x)
        let qw = NH * D, kvw = KVH * D, QKV = qw + 2 * kvw
        let shape = AttentionShape(NH: NH, KVH: KVH, D: D)
        let split = rows.map { SplitKVRow(prefixSlot: $0.prompt, prefixLength: $0.promptLength, suffixSlot: $0.beam, suffixLength: $0.generated + 1) }
        let beams = cache.beams, prompts = cache.prompts
        for l in 0..<cfg.layers {
            try layer(l, x: x, N: N, ws: ws, packed: packed) { qkv, att in
                for (i, r) in rows.enumerated() {
                    let row = qkv + i * QKV
                    let pos = r.promptLength + r.generated
                    rope.apply(row, heads: NH, pos: pos)
                    rope.apply(row + qw, heads: KVH, pos: pos)
                    let at = (r.beam * beams.capacity + r.generated) * kvw
                    (beams.keys[l] + at).update(from: row + qw, count: kvw)
                    (beams.values[l] + at).update(from: row + qw + kvw, count: kvw)
                }
                attentionSplitKV(att, qkv, qStride: QKV, prefix: (UnsafePointer(prompts.keys[l]), UnsafePointer(prompts.values[l]), prompts.capacity),
                                 suffix: (UnsafePointer(beams.keys[l]), UnsafePointer(beams.values[l]), beams.capacity), rows: split, shape: shape, scratch: ws.scores)
            }
        }
        rmsNormForward(ws.xn, x, g(.finalNorm), N: N, C: C, eps: cfg.rmsNormEps)
        return Array(UnsafeBufferPointer(start: ws.xn, count: N * C))
    }
}
