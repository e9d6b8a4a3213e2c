// Constrained beam search over the catalog trie, for many prompts at once, with the selection
// rules of Hugging Face's beam search (transformers 5.23 `_beam_search`), so that results can be
// compared with `generate(num_beams=B, prefix_allowed_tokens_fn=…)`:
//   - each step takes the best 2B candidates (running sum + step score) over a prompt's beams;
//   - a candidate ending at EOS, at rank < B, becomes a finished item scored sum / L^λ (L: tokens
//     generated, EOS included); the best B finished items are kept;
//   - the best B candidates not at EOS run on;
//   - a prompt is done when its B finished slots are full and the best running sum / n^λ cannot
//     beat the worst finished score (n: tokens generated so far), or when no beam runs.
// Each trie path ends in one item, so finished items are distinct. The prompts are encoded once
// (one packed forward pass), and all running beams of all prompts advance as one batch. The
// tokens every prompt begins with (the instruction header) are encoded once per search object:
// a prompt that starts with them continues from a copy of their keys and values, which causal
// attention makes equal to encoding it whole.
import CausalLM
import Foundation
import ItemIndex
import Kernels

public struct ScoredItem: Sendable, Equatable {
    public var item: Int
    public var score: Double
    public init(item: Int, score: Double) { self.item = item; self.score = score }
}

public enum BeamSearchError: Error, CustomStringConvertible, Equatable {
    case countAboveBeams(count: Int, beams: Int)
    case badOption(String)
    case emptyPrompt(index: Int)
    case promptTooLong(index: Int, length: Int, limit: Int)

    public var description: String {
        switch self {
        case .countAboveBeams(let k, let b): "asked for \(k) items with \(b) beams; beam search returns at most one item per beam: raise --beams to \(k) or more"
        case .badOption(let what): what
        case .emptyPrompt(let i): "prompt \(i) is empty"
        case .promptTooLong(let i, let n, let limit): "prompt \(i) has \(n) tokens; with the longest title the model's context allows \(limit)"
        }
    }
}

public final class ConstrainedBeamSearch: @unchecked Sendable {
    public let model: DecoderModel
    public let ig: InformationGain
    /// The longest response in the catalog, EOS included: the most steps a search takes.
    public let depth: Int
    /// Where the model's passes run (BeamPasses.swift).
    public let passes: BeamPasses
    /// The CPU passes' shared header (keys and values, one slot) and its tokens.
    var header: (cache: KVCache, tokens: [Int32])? { (passes as? CPUBeamPasses)?.header }

    /// `sharedPrefix`: the tokens prompts are expected to begin with (e.g. the corpus's
    /// `sharedPromptPrefix`); prompts that do not are encoded whole. In bf16 the linear layers'
    /// products (the output head's full-vocabulary product included) run in bf16; the logits of
    /// a masked softmax, gathered for a few tokens, stay Float32 dot products.
    public convenience init(model: DecoderModel, ig: InformationGain, sharedPrefix: [Int32] = [], precision: Precision = .fp32) {
        self.init(model: model, ig: ig, passes: CPUBeamPasses(model: model, sharedPrefix: sharedPrefix, precision: precision))
    }

    /// A search whose passes run elsewhere (a GPU); `model` is the host copy of the same weights
    /// (the masked softmax's few logits are dot products with its head).
    public init(model: DecoderModel, ig: InformationGain, passes: BeamPasses) {
        self.model = model
        self.ig = ig
        self.passes = passes
        depth = ig.trie.sequences.map(\.count).max() ?? 0
    }

    /// A running beam. `scored` holds the scored continuations of its node and, when that node
    /// has a single child, of the forced nodes after it: the model has already read those
    /// tokens (`fed` positions of the beam's own continuation are in its KV slot). A beam whose
    /// `scored` is empty has its last token at position `fed`, not yet read.
    struct Beam {
        var node: Int32
        var sum: Double
        var token: Int32
        var fed: Int
        var scored: ArraySlice<[Continuation]>
    }

    struct Search {
        var running: [Beam] = []
        var finished: [ScoredItem] = []
        var done = false
    }

    /// The top `options.count` items for each prompt, best first.
    ///
    /// Forced tokens are read ahead: when a beam's next trie nodes each have a single child (a
    /// title's unique tail, such as " (1995)\""), the model reads the whole chain in the pass that
    /// reads the beam's token, and the following steps take its scores from there without a pass
    /// of their own. The selection at each step is unchanged (a forced token is the beam's only
    /// candidate, scored as it would be then), so the results are the same; a pass reads the
    /// weights once for more rows, which is what a step costs when a few beams decode alone.
    public func recommend(_ prompts: [[Int32]], options: DecodingOptions) throws -> [[ScoredItem]] {
        let B = options.beams, K = options.count
        guard B >= 1, K >= 1 else { throw BeamSearchError.badOption("beams and count must be at least 1 (got \(B) and \(K))") }
        guard K <= B else { throw BeamSearchError.countAboveBeams(count: K, beams: B) }
        guard options.lengthPenalty.isFinite, DecodingOptions.igdAlphaRange.contains(options.igdAlpha) else {
            throw BeamSearchError.badOption("IGD alpha must be in [0, 1] and the length penalty finite")
        }
        let limit = model.config.maxPositions - depth
        for (i, p) in prompts.enumerated() {
            guard !p.isEmpty else { throw BeamSearchError.emptyPrompt(index: i) }
            guard p.count <= limit else { throw BeamSearchError.promptTooLong(index: i, length: p.count, limit: limit) }
        }
        let U = prompts.count
        guard U > 0, depth > 0 else { return Array(repeating: [], count: U) }
        let (session, promptHidden) = try passes.start(prompts: prompts, beams: U * B, depth: depth)
        let scorer = StepScorer(model: model, ig: ig, options: options)
        var searches = Array(repeating: Search(), count: U)

        // Step 1: every prompt's last position scores the root's children.
        let rootScores = try score(promptHidden, nodes: Array(repeating: TokenTrie.root, count: U), scorer: scorer)
        for u in 0..<U { searches[u].running = [Beam(node: TokenTrie.root, sum: 0, token: -1, fed: 0, scored: [rootScores[u]])] }
        var generated = 0
        while true {
            generated += 1
            let norm = pow(Double(generated), options.lengthPenalty)
            var parentSlots = Array(0..<(U * B)), keep = Array(repeating: 0, count: U * B)
            for u in 0..<U where !searches[u].done {
                var search = searches[u]
                var candidates: [(parent: Int, c: Continuation, sum: Double)] = []
                for (p, beam) in search.running.enumerated() {
                    for c in beam.scored.first! { candidates.append((p, c, beam.sum + c.score)) }
                }
                // Best first; ties by parent beam, then token id (deterministic).
                candidates.sort { a, b in a.sum != b.sum ? a.sum > b.sum : a.parent != b.parent ? a.parent < b.parent : a.c.token < b.c.token }
                var running: [Beam] = []
                for (rank, cand) in candidates.prefix(2 * B).enumerated() {
                    if cand.c.token == ig.eosTokenID {
                        if rank < B { search.finished.append(ScoredItem(item: Int(ig.trie.itemAt[Int(cand.c.child)]), score: cand.sum / norm)) }
                    } else if running.count < B {
                        let parent = search.running[cand.parent]
                        parentSlots[u * B + running.count] = u * B + cand.parent
                        keep[u * B + running.count] = parent.fed
                        running.append(Beam(node: cand.c.child, sum: cand.sum, token: cand.c.token, fed: parent.fed, scored: parent.scored.dropFirst()))
                    }
                }
                search.finished.sort { $0.score != $1.score ? $0.score > $1.score : $0.item < $1.item }
                if search.finished.count > B { search.finished.removeLast(search.finished.count - B) }
                search.running = running
                let full = search.finished.count == B
                search.done = running.isEmpty || generated >= depth
                    || (full && running[0].sum / norm <= search.finished[B - 1].score)
                if search.done { search.running = [] }
                searches[u] = search
            }
            if searches.allSatisfy(\.done) { break }
            // The new beams continue their parents' continuations (the positions read so far).
            if generated > 1 { try session.reselect(parents: parentSlots, lengths: keep) }
            try readAhead(&searches, beams: B, prompts: prompts, session: session, scorer: scorer)
        }
        return searches.map { Array($0.finished.prefix(K)) }
    }

    /// Forced chains are read ahead when at most this many beams wait for a pass. Measured on
    /// MovieLens-1M with 10 beams: one user at a time 0.65 → 0.55 s; 16 users together 13% slower
    /// when always on, and slightly faster with this limit (their last steps, with few beams left).
    var readAheadRows = 16

    /// One decoder pass for the beams that have no scores left: each reads its token and the
    /// forced chain after it, and gets the scored continuations of every node on the way.
    func readAhead(_ searches: inout [Search], beams B: Int, prompts: [[Int32]], session: BeamSession, scorer: StepScorer) throws {
        var rows: [BeamRow] = [], nodes: [Int32] = []
        var owners: [(u: Int, j: Int, count: Int)] = []
        // Reading ahead pays when a pass is bound by streaming the weights (a few rows); with many
        // rows a pass is bound by arithmetic, and the rows of beams dropped later are lost work.
        let waiting = searches.reduce(0) { $0 + $1.running.count { $0.scored.isEmpty } }
        let readForced = waiting <= readAheadRows
        for u in searches.indices {
            for (j, beam) in searches[u].running.enumerated() where beam.scored.isEmpty {
                var token = beam.token, node = beam.node, index = beam.fed
                let first = rows.count
                while true {
                    rows.append(BeamRow(token: token, prompt: u, promptLength: prompts[u].count, beam: u * B + j, generated: index))
                    nodes.append(node)
                    index += 1
                    // Read on while the next token is forced (and not the end of the title).
                    let next = ig.trie.validTokens(node)
                    guard readForced, next.count == 1, let only = next.first, only != ig.eosTokenID, index < depth,
                          let child = ig.trie.child(node, only) else { break }
                    token = only
                    node = child
                }
                owners.append((u, j, rows.count - first))
            }
        }
        guard !rows.isEmpty else { return }
        let hidden = try session.advance(rows)
        let scored = try score(hidden, nodes: nodes, scorer: scorer)
        var row = 0
        for o in owners {
            searches[o.u].running[o.j].scored = scored[row..<(row + o.count)]
            searches[o.u].running[o.j].fed += o.count
            row += o.count
        }
    }

    /// The scored continuations of `nodes[i]` from the final-normed hidden row i.
    func score(_ hidden: [Float], nodes: [Int32], scorer: StepScorer) throws -> [[Continuation]] {
        let C = model.config.hiddenSize, V = model.config.vocabSize, rows = nodes.count
        let maskSoftmax = scorer.options.maskSoftmax
        let (logits, lse) = maskSoftmax ? ([], []) : try passes.logits(hidden, rows: rows)
        var scratch: [Float] = []
        return hidden.withUnsafeBufferPointer { h in
            logits.withUnsafeBufferPointer { l in
                nodes.enumerated().map { i, node in
                    scorer.continuations(of: node, hidden: h.baseAddress! + i * C,
                                         logits: maskSoftmax ? nil : (l.baseAddress! + i * V, lse[i]), scratch: &scratch)
                }
            }
        }
    }
}
