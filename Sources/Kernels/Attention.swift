// Causal grouped-query attention over a KV cache, for packed sequences (no padding rows).
// Query row r belongs to sequence b at absolute position p; it attends to cache positions
// 0...p of sequence b. Query head h reads KV head h / (NH / KVH).
// Legend: NH = query heads, KVH = key/value heads, D = head dimension, S = cache capacity (positions).
import Dispatch
import Foundation

public struct AttentionShape: Sendable {
    public var NH: Int, KVH: Int, D: Int
    public init(NH: Int, KVH: Int, D: Int) { self.NH = NH; self.KVH = KVH; self.D = D }
}

/// One query row: its cache slot (sequence) and absolute position.
public struct QueryRow: Sendable {
    public var slot: Int32
    public var position: Int32
    public init(slot: Int, position: Int) { self.slot = Int32(slot); self.position = Int32(position) }
}

/// out (R, NH·D) = softmax(q kᵀ / √D) v for each row and head, with
/// q (R, NH·D), kCache/vCache (slots, S, KVH·D), scratch ≥ threads · S floats.
public func attentionForward(
    _ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>,
    _ kCache: UnsafePointer<Float>, _ vCache: UnsafePointer<Float>,
    rows: UnsafePointer<QueryRow>, R: Int, S: Int, shape: AttentionShape, scratch: UnsafeMutablePointer<Float>
) {
    let (NH, KVH, D) = (shape.NH, shape.KVH, shape.D)
    let group = NH / KVH
    let scale = 1 / Float(D).squareRoot()
    let kvStride = KVH * D
    let tasks = R * NH
    let workers = min(ProcessInfo.processInfo.activeProcessorCount, max(1, tasks / 4))
    let shared = Shared((out: out, q: q, k: kCache, v: vCache, rows: rows, scratch: scratch))
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        let (out, q, kCache, vCache, rows) = (shared.value.out, shared.value.q, shared.value.k, shared.value.v, shared.value.rows)
        let scores = shared.value.scratch + w * S
        var task = w
        while task < tasks {
            let r = task / NH, h = task % NH
            let row = rows[r]
            let n = Int(row.position) + 1
            let kvh = h / group
            let qv = q + r * NH * D + h * D
            let base = Int(row.slot) * S * kvStride + kvh * D
            var m = -Float.infinity
            for s in 0..<n {
                let v = dot(qv, kCache + base + s * kvStride, D) * scale
                scores[s] = v
                m = max(m, v)
            }
            var sum: Float = 0
            for s in 0..<n {
                let e = expf(scores[s] - m)
                scores[s] = e
                sum += e
            }
            let o = out + r * NH * D + h * D
            o.initialize(repeating: 0, count: D)
            let inv = 1 / sum
            for s in 0..<n { axpy(o, scores[s] * inv, vCache + base + s * kvStride, D) }
            task += workers
        }
    }
}

/// Pointers that concurrent workers share; each worker writes a disjoint range.
public struct Shared<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
