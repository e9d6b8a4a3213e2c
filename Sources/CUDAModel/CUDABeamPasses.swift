// The beam search's passes on the GPU (Decoding's BeamPasses): the prompts' keys and values in one
// cache slot per prompt, each beam's continuation in a slot of its own (double-buffered for
// re-selection, copied by one kernel per layer), every beam of every prompt advancing as one
// packed batch, and the full-vocabulary head with its log-sum-exp on the device. The selection,
// the trie and the step scores stay in ConstrainedBeamSearch, on the host.
import CausalLM
import CUDABackend
import Decoding
import Foundation

public final class CUDABeamPasses: BeamPasses, @unchecked Sendable {
    public let decoder: CUDADecoder
    public var config: ModelConfig { decoder.config }

    public init(_ decoder: CUDADecoder) { self.decoder = decoder }

    final class Session: BeamSession {
        let decoder: CUDADecoder
        let prompts: CUDAKVCache
        var beams: CUDAKVCache
        var spare: CUDAKVCache

        init(decoder: CUDADecoder, prompts: CUDAKVCache, beams: Int, depth: Int) throws {
            self.decoder = decoder
            self.prompts = prompts
            self.beams = try CUDAKVCache(decoder, slots: beams, capacity: depth)
            spare = try CUDAKVCache(decoder, slots: beams, capacity: depth)
        }

        func reselect(parents: [Int], lengths: [Int]) throws {
            let d = decoder.device, cfg = decoder.config
            let kvw = cfg.kvHeads * cfg.headDim, slotWidth = beams.capacity * kvw
            let dParents = try d.upload(parents.map { Int32($0) }), dLengths = try d.upload(lengths.map { Int32($0) })
            let longest = (lengths.max() ?? 0) * kvw
            guard longest > 0 else { swap(&beams, &spare); return }
            for l in 0..<cfg.layers {
                for (dst, src) in [(spare.keys[l], beams.keys[l]), (spare.values[l], beams.values[l])] {
                    try d.launch("copy_beam_slots", grid: ((longest + 255) / 256, parents.count), block: 256,
                                 [dst.argument, src.argument, dParents.argument, dLengths.argument, .int32(Int32(parents.count)),
                                  .int64(Int64(slotWidth)), .int32(Int32(kvw))])
                }
            }
            swap(&beams, &spare)
        }

        func advance(_ rows: [BeamRow]) throws -> [Float] {
            let d = decoder.device, cfg = decoder.config
            let (C, NH, KVH, D) = (cfg.hiddenSize, cfg.heads, cfg.kvHeads, cfg.headDim)
            let qw = NH * D, kvw = KVH * D, QKV = qw + 2 * kvw, N = rows.count
            guard N > 0 else { return [] }
            for r in rows {
                guard r.token >= 0, Int(r.token) < cfg.vocabSize else { throw ModelError.tokenOutOfRange(r.token, vocabulary: cfg.vocabSize) }
                guard r.generated < beams.capacity, r.promptLength + r.generated < cfg.maxPositions else {
                    throw ModelError.contextFull(slot: r.beam, needed: r.promptLength + r.generated + 1, capacity: min(beams.capacity, cfg.maxPositions))
                }
            }
            let positions = try d.upload(rows.map { Int32($0.promptLength + $0.generated) })
            let beamSlots = try d.upload(rows.map { Int32($0.beam) }), generated = try d.upload(rows.map { Int32($0.generated) })
            let promptSlots = try d.upload(rows.map { Int32($0.prompt) }), promptLengths = try d.upload(rows.map { Int32($0.promptLength) })
            let widest = rows.map { $0.promptLength + $0.generated + 1 }.max()!
            let (beams, prompts) = (self.beams, self.prompts)
            let (x, _) = try decoder.residualStream(rows.map(\.token)) { qkv, att, l in
                try self.decoder.rope(qkv, rows: N, positions: positions)
                // Every row's keys and values into its beam slot first: a beam's forced chain reads
                // the positions its earlier rows write in the same pass.
                try d.launch("store_kv", grid: (d.strideGrid(N * kvw), 1), block: 256,
                             [beams.keys[l].argument, beams.values[l].argument, qkv.argument, .int32(Int32(QKV)), .int32(Int32(qw)),
                              .int32(Int32(kvw)), beamSlots.argument, generated.argument, .int32(Int32(N)), .int32(Int32(beams.capacity))])
                try d.launch("attention_beam_rows", grid: (N, NH), block: 128, sharedBytes: widest * 4,
                             [att.argument, qkv.argument, .int32(Int32(QKV)), prompts.keys[l].argument, prompts.values[l].argument,
                              promptSlots.argument, promptLengths.argument, .int32(Int32(prompts.capacity)),
                              beams.keys[l].argument, beams.values[l].argument, beamSlots.argument, generated.argument,
                              .int32(Int32(beams.capacity)), .int32(Int32(N)), .int32(Int32(NH)), .int32(Int32(KVH)), .int32(Int32(D))])
            }
            let xn = try d.allocate(Float.self, count: N * C)
            try decoder.rmsNorm(xn, x, decoder.layout.globals[.finalNorm]!, rows: N)
            return try xn.download()
        }
    }

    public func start(prompts: [[Int32]], beams: Int, depth: Int) throws -> (session: BeamSession, hidden: [Float]) {
        let cache = try CUDAKVCache(decoder, slots: prompts.count, capacity: prompts.map(\.count).max()!)
        let hidden = try decoder.forward(prompts, cache: cache, logits: .last, hiddenOnly: true)
        let session = try Session(decoder: decoder, prompts: cache, beams: beams, depth: depth)
        return (session, hidden)
    }

    public func logits(_ hidden: [Float], rows: Int) throws -> (logits: [Float], lse: [Float]) {
        let d = decoder.device, C = config.hiddenSize, V = config.vocabSize
        guard rows > 0 else { return ([], []) }
        let h = try d.upload(hidden), logits = try d.allocate(Float.self, count: rows * V), lse = try d.allocate(Float.self, count: rows)
        let rounded = decoder.precision == .bf16 ? try d.allocate(UInt16.self, count: rows * C) : nil
        try decoder.linear(logits, h, decoder.outputHead, rows: rows, C: C, OC: V, rounded: rounded)
        try d.launch("log_sum_exp_rows", grid: (rows, 1), block: 256, [lse.argument, logits.argument, .int32(Int32(rows)), .int32(Int32(V))])
        return (try logits.download(), try lse.download())
    }
}
