// Where the weights of a model loaded from GGUF came from: the file and, for each weight, its
// tensor. Inference packing (InferenceWeights) uses it to keep Q4_1 and Q8_0 weights in their
// blocks. It records places, not contents: the packer reopens the file and checks, row by row,
// that the blocks still dequantise to exactly the model's weights (which training, a LoRA merge
// or a changed file would break), and otherwise packs the Float32 weights.
import ModelFormats

public struct GGUFOrigin: Sendable {
    struct Source: Sendable {
        let tensor: GGUFTensorInfo
        /// Heads whose rotary rows the loader un-permuted (q and k of Llama models), else nil.
        let permuteHeads: Int?
    }

    let path: String
    /// By the offset of the weight's slot in the parameter buffer.
    let sources: [Int: Source]

    /// GGUF's row holding our (Hugging Face) row `r` of a weight whose rotary rows were
    /// un-permuted: within a head, our row j·D/2 + i is GGUF row 2i + j (j ∈ {0, 1}), undoing
    /// convert_hf_to_gguf.py's `permute`. The loader (unpermuteRotaryRows) uses it too.
    static func fileRow(_ r: Int, permuteHeads: Int?, headDim D: Int) -> Int {
        guard permuteHeads != nil else { return r }
        let half = D / 2, within = r % D
        return r - within + 2 * (within % half) + within / half
    }
}
