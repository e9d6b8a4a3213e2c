// Where each of our tensors lives in a checkpoint: one table for Hugging Face names and one
// for GGUF names (llama.cpp's llama-arch.cpp), so that loaders never spell names inline.

public enum WeightNames {
    public static func huggingFace(_ t: LayerTensor, layer i: Int) -> String {
        let p = "model.layers.\(i)."
        switch t {
        case .attnNorm: return p + "input_layernorm.weight"
        case .wq: return p + "self_attn.q_proj.weight"
        case .bq: return p + "self_attn.q_proj.bias"
        case .wk: return p + "self_attn.k_proj.weight"
        case .bk: return p + "self_attn.k_proj.bias"
        case .wv: return p + "self_attn.v_proj.weight"
        case .bv: return p + "self_attn.v_proj.bias"
        case .wo: return p + "self_attn.o_proj.weight"
        case .mlpNorm: return p + "post_attention_layernorm.weight"
        case .wGate: return p + "mlp.gate_proj.weight"
        case .wUp: return p + "mlp.up_proj.weight"
        case .wDown: return p + "mlp.down_proj.weight"
        }
    }

    public static func huggingFace(_ t: GlobalTensor) -> String {
        switch t {
        case .embedding: return "model.embed_tokens.weight"
        case .finalNorm: return "model.norm.weight"
        case .lmHead: return "lm_head.weight"
        }
    }

    static func gguf(_ t: LayerTensor, layer i: Int) -> String {
        let p = "blk.\(i)."
        switch t {
        case .attnNorm: return p + "attn_norm.weight"
        case .wq: return p + "attn_q.weight"
        case .bq: return p + "attn_q.bias"
        case .wk: return p + "attn_k.weight"
        case .bk: return p + "attn_k.bias"
        case .wv: return p + "attn_v.weight"
        case .bv: return p + "attn_v.bias"
        case .wo: return p + "attn_output.weight"
        case .mlpNorm: return p + "ffn_norm.weight"
        case .wGate: return p + "ffn_gate.weight"
        case .wUp: return p + "ffn_up.weight"
        case .wDown: return p + "ffn_down.weight"
        }
    }

    static func gguf(_ t: GlobalTensor) -> String {
        switch t {
        case .embedding: return "token_embd.weight"
        case .finalNorm: return "output_norm.weight"
        case .lmHead: return "output.weight"
        }
    }
}
