// The score of each valid next token at one trie node (docs/DESIGN.md, "Decoding"):
//   s(v) = log_softmax(z)_v over the whole vocabulary, or over the valid tokens V_t alone with
//          mask-softmax (MSL's customised constrained decoding, arXiv 2504.04178);
//   IGD decoding (arXiv 2506.13229): s(v) · (1 − α·g(v)), g the min-max normalised IG of v among
//          V_t (0 if all equal).
import CausalLM
import ItemIndex
import Kernels

/// One valid continuation of a trie node and its step score.
struct Continuation {
    var token: Int32
    var child: Int32
    var score: Double
}

struct StepScorer {
    let model: DecoderModel
    let ig: InformationGain
    let options: DecodingOptions

    /// The valid continuations of `node` with their scores, from the node's hidden state and,
    /// without mask-softmax, its full logits row and that row's log-sum-exp.
    func continuations(of node: Int32, hidden: UnsafePointer<Float>, logits: (row: UnsafePointer<Float>, lse: Float)?, scratch: inout [Float]) -> [Continuation] {
        let trie = ig.trie
        let tokens = trie.validTokens(node)
        let start = Int(trie.childStart[Int(node)])
        var out: [Continuation] = []
        out.reserveCapacity(tokens.count)
        if let (row, lse) = logits {
            for (k, t) in tokens.enumerated() {
                out.append(Continuation(token: t, child: trie.childNodes[start + k], score: Double(row[Int(t)]) - Double(lse)))
            }
        } else {
            model.headLogits(hidden, tokens: tokens, into: &scratch)
            let lse = scratch.withUnsafeBufferPointer { Double(logSumExp($0.baseAddress!, $0.count)) }
            for (k, t) in tokens.enumerated() {
                out.append(Continuation(token: t, child: trie.childNodes[start + k], score: Double(scratch[k]) - lse))
            }
        }
        if options.igdAlpha != 0, out.count > 1 {
            let gains = out.map { ig.gain(from: node, token: $0.token) }
            let lo = gains.min()!, hi = gains.max()!
            if hi > lo {
                for k in out.indices { out[k].score *= 1 - options.igdAlpha * (gains[k] - lo) / (hi - lo) }
            }
        }
        return out
    }
}
