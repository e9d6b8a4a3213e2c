// Loading a model's weights from GGUF into the flat buffer: every expected tensor must be
// there with exactly the expected shape, and none may be left over. Quantised tensors are
// dequantised to Float32, in parallel over tensors. llama.cpp stores the q and k rows of
// Llama models permuted for its rotary layout; they are put back in Hugging Face order here.
import Dispatch
import Foundation
import ModelFormats
import Support

extension DecoderModel {
    /// Tensors a GGUF may hold that the forward pass does not use.
    static let ignoredGGUFTensors: Set<String> = ["rope_freqs.weight"]

    public convenience init(gguf: GGUFFile) throws {
        let config = try ModelConfig(gguf: gguf)
        // Every tensor is matched to its slot before the buffer is allocated, so the sizes a
        // header declares are bounded by the tensors the file holds.
        let layout = ParameterLayout(config)
        var jobs: [(GGUFTensorInfo, TensorSlot, permuteHeads: Int?)] = []
        var used = Set<String>()
        func take(_ name: String, _ slot: TensorSlot, permuteHeads: Int? = nil) throws {
            guard let t = gguf.tensor(name) else {
                throw FormatError.missing(path: gguf.path, what: "tensor \(quoted(name))", hint: "The file does not hold a complete \(config.architecture.rawValue) model.")
            }
            let expected = Array(slot.shape.reversed())
            guard t.dims == expected else {
                throw FormatError.invalid(path: gguf.path, what: "tensor \(quoted(name)) has shape \(t.dims)", expected: "\(expected) (ggml order)")
            }
            used.insert(name)
            jobs.append((t, slot, permuteHeads))
        }
        for (g, slot) in layout.globals { try take(WeightNames.gguf(g), slot) }
        let permute = config.architecture.facts.ggufRotaryPermuted
        for (i, layer) in layout.layers.enumerated() {
            for (t, slot) in layer {
                let heads: Int? = !permute ? nil : t == .wq ? config.heads : t == .wk ? config.kvHeads : nil
                try take(WeightNames.gguf(t, layer: i), slot, permuteHeads: heads)
            }
        }
        let leftover = gguf.tensors.map(\.name).filter { !used.contains($0) && !Self.ignoredGGUFTensors.contains($0) }
        guard leftover.isEmpty else {
            throw FormatError.invalid(path: gguf.path, what: "unexpected tensors \(leftover.prefix(5).map { quoted($0) }.joined(separator: ", "))", expected: "only the tensors of a \(config.architecture.rawValue) model")
        }
        self.init(config: config, zeroed: false)
        ggufOrigin = GGUFOrigin(path: gguf.path, sources: Dictionary(uniqueKeysWithValues: jobs.map {
            ($0.1.offset, GGUFOrigin.Source(tensor: $0.0, permuteHeads: $0.permuteHeads))
        }))
        // Largest first so the two cores finish together.
        let ordered = jobs.sorted { $0.0.byteCount > $1.0.byteCount }
        let buffer = parameters
        let D = config.headDim
        DispatchQueue.concurrentPerform(iterations: ordered.count) { j in
            let (t, slot, heads) = ordered[j]
            let dst = buffer.view(slot)
            dequantize(t.type, gguf.bytes(of: t), into: dst, count: slot.count)
            if let heads { unpermuteRotaryRows(dst, heads: heads, headDim: D, columns: slot.shape[1]) }
        }
        try requireFinite(jobs.map { (name: $0.0.name, file: gguf.path, slot: $0.1) })
    }

    /// Every weight loaded must be a finite number: a flipped exponent bit or a damaged scale
    /// would otherwise load without a word and turn every logit into NaN. Names the first
    /// tensor (in file order) that holds one, with the first bad value's index.
    func requireFinite(_ tensors: [(name: String, file: String, slot: TensorSlot)]) throws {
        let buffer = parameters
        // Each iteration writes only its own slot.
        nonisolated(unsafe) let firstBad = UnsafeMutableBufferPointer<Int>.allocate(capacity: tensors.count)
        defer { firstBad.deallocate() }
        DispatchQueue.concurrentPerform(iterations: tensors.count) { j in
            let values = UnsafeBufferPointer(start: buffer.view(tensors[j].slot), count: tensors[j].slot.count)
            firstBad[j] = values.firstIndex { !$0.isFinite } ?? -1
        }
        if let j = firstBad.firstIndex(where: { $0 >= 0 }) {
            let value = buffer.view(tensors[j].slot)[firstBad[j]]
            throw FormatError.invalid(path: tensors[j].file, what: "tensor \(quoted(tensors[j].name)) holds \(value) at index \(firstBad[j])",
                                      expected: "finite weights (the file is damaged)")
        }
    }
}

/// Inverts convert_hf_to_gguf.py's `permute`: each Hugging Face row r of a head comes from the
/// GGUF row GGUFOrigin.fileRow(r) of the same head.
func unpermuteRotaryRows(_ w: UnsafeMutablePointer<Float>, heads: Int, headDim D: Int, columns: Int) {
    let tmp = UnsafeMutablePointer<Float>.allocate(capacity: D * columns)
    defer { tmp.deallocate() }
    for h in 0..<heads {
        let head = w + h * D * columns
        tmp.update(from: head, count: D * columns)
        for r in 0..<D {
            (head + r * columns).update(from: tmp + GGUFOrigin.fileRow(r, permuteHeads: heads, headDim: D) * columns, count: columns)
        }
    }
}
