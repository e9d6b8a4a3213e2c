// Causal grouped-query attention over a KV cache, for packed sequences (no padding rows).
// Query row r belongs to sequence b at absolute position p; it attends to cache positions
// 0...p of sequence b. Query head h reads KV head h / (NH / KVH).
// Legend: NH = query heads, KVH = key/value heads, D = head dimension, S = cache capacity (positions).
import COpenBLAS
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

/// Softmax over the first `visible` entries of a score row (the keys up to the query's position),
/// zeros for the rest of its `width`. Eight lanes at a time with exp8: scalar expf was a third of
/// a beam step's attention (30 rows × 9 heads × a 200-token prompt per layer).
@inline(__always)
public func causalSoftmaxRow(_ row: UnsafeMutablePointer<Float>, visible: Int, width: Int) {
    let full = visible / 8 * 8
    var mx8 = SIMD8<Float>(repeating: -.infinity)
    var s = 0
    while s < full {
        let v = UnsafeRawPointer(row + s).loadUnaligned(as: SIMD8<Float>.self)
        mx8.replace(with: v, where: v .> mx8)
        s += 8
    }
    var mx = mx8.max()
    for s in full..<visible { mx = max(mx, row[s]) }
    let mxv = SIMD8<Float>(repeating: mx)
    var sum8 = SIMD8<Float>()
    s = 0
    while s < full {
        let raw = UnsafeMutableRawPointer(row + s)
        let e = exp8(raw.loadUnaligned(as: SIMD8<Float>.self) - mxv)
        raw.storeBytes(of: e, as: SIMD8<Float>.self)
        sum8 += e
        s += 8
    }
    var sum = sum8.sum()
    for s in full..<visible {
        let e = expf(row[s] - mx)
        row[s] = e
        sum += e
    }
    let inv = 1 / sum
    let inv8 = SIMD8<Float>(repeating: inv)
    s = 0
    while s < full {
        let raw = UnsafeMutableRawPointer(row + s)
        raw.storeBytes(of: raw.loadUnaligned(as: SIMD8<Float>.self) * inv8, as: SIMD8<Float>.self)
        s += 8
    }
    for s in full..<visible { row[s] *= inv }
    for s in visible..<width { row[s] = 0 }
}

/// A run of packed rows of one sequence at consecutive positions.
public struct AttentionSegment: Sendable {
    public var firstRow: Int, rows: Int, slot: Int, firstPosition: Int
    public init(firstRow: Int, rows: Int, slot: Int, firstPosition: Int) {
        self.firstRow = firstRow; self.rows = rows; self.slot = slot; self.firstPosition = firstPosition
    }
}

/// out (R, NH·D) = softmax(q kᵀ / √D) v, one (segment, head) block at a time: scores = Q·Kᵀ
/// and out = P·V as two single-threaded sgemm calls on strided views, the blocks spread over
/// the workers. Computes the masked upper triangle too (then discards it): still several times
/// faster than row-by-row dot products. scratch ≥ workers · (max segment rows) · S floats.
/// `qStride` is the distance between query rows (NH·D, or wider when q sits in a fused qkv buffer).
public func attentionForward(
    _ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, qStride: Int,
    _ kCache: UnsafePointer<Float>, _ vCache: UnsafePointer<Float>,
    segments: [AttentionSegment], S: Int, shape: AttentionShape, scratch: UnsafeMutablePointer<Float>
) {
    let (NH, KVH, D) = (shape.NH, shape.KVH, shape.D)
    let group = NH / KVH
    let scale = 1 / Float(D).squareRoot()
    let kvStride = KVH * D, outStride = NH * D
    let maxRows = segments.map(\.rows).max() ?? 0
    let tasks = segments.count * NH
    let shared = Shared((out: out, q: q, k: kCache, v: vCache, scratch: scratch))
    let workers = min(Parallel.workers, tasks)
    Parallel.perform(workers) { w in
        let (out, q, kCache, vCache) = (shared.value.out, shared.value.q, shared.value.k, shared.value.v)
        let scores = shared.value.scratch + w * maxRows * S
        var task = w
        while task < tasks {
            let seg = segments[task / NH], h = task % NH
            let m = seg.rows, n = seg.firstPosition + seg.rows  // keys 0..<n
            let qBlock = q + seg.firstRow * qStride + h * D
            let kvBase = seg.slot * S * kvStride + (h / group) * D
            // scores (m, n) = scale · Q (m, D) · K (n, D)ᵀ
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(D),
                        scale, qBlock, Int32(qStride), kCache + kvBase, Int32(kvStride), 0, scores, Int32(n))
            for i in 0..<m { causalSoftmaxRow(scores + i * n, visible: seg.firstPosition + i + 1, width: n) }
            // out (m, D) = P (m, n) · V (n, D)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(D), Int32(n),
                        1, scores, Int32(n), vCache + kvBase, Int32(kvStride), 0,
                        out + seg.firstRow * outStride + h * D, Int32(outStride))
            task += workers
        }
    }
}

/// The reference: row by row, head by head, with plain dot products.
/// q (R, NH·D), kCache/vCache (slots, S, KVH·D), scratch ≥ workers · S floats.
public func attentionForwardNaive(
    _ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>,
    _ kCache: UnsafePointer<Float>, _ vCache: UnsafePointer<Float>,
    rows: UnsafePointer<QueryRow>, R: Int, S: Int, shape: AttentionShape, scratch: UnsafeMutablePointer<Float>
) {
    let (NH, KVH, D) = (shape.NH, shape.KVH, shape.D)
    let group = NH / KVH
    let scale = 1 / Float(D).squareRoot()
    let kvStride = KVH * D
    let tasks = R * NH
    let workers = min(Parallel.workers, max(1, tasks / 4))
    let shared = Shared((out: out, q: q, k: kCache, v: vCache, rows: rows, scratch: scratch))
    Parallel.perform(workers) { w in
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

/// One decoding row whose keys come from two places: a prefix shared with other rows (the prompt,
/// `prefixLength` positions of `prefixSlot` in the prefix cache) and the row's own continuation
/// (positions 0..<suffixLength of `suffixSlot` in the suffix cache, the row's own key last).
public struct SplitKVRow: Sendable {
    public var prefixSlot: Int32, prefixLength: Int32, suffixSlot: Int32, suffixLength: Int32
    public init(prefixSlot: Int, prefixLength: Int, suffixSlot: Int, suffixLength: Int) {
        self.prefixSlot = Int32(prefixSlot); self.prefixLength = Int32(prefixLength)
        self.suffixSlot = Int32(suffixSlot); self.suffixLength = Int32(suffixLength)
    }
}

/// Attention for rows of one token each over a shared prefix and their own suffix, so that beams
/// of one prompt read the prompt's keys from one place instead of each holding a copy.
/// Rows with the same prefix must be adjacent (the beams of one prompt); for each such run and
/// head, the prefix part is two sgemm calls (scores = Q·Kᵀ and out = P·V over all the run's
/// rows at once) and the few suffix keys are dot products.
/// Caches are (slots, capacity, KVH·D); scratch ≥ workers · (rows of the longest run) · (longest prefix + suffix) floats.
public func attentionSplitKV(
    _ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, qStride: Int,
    prefix: (k: UnsafePointer<Float>, v: UnsafePointer<Float>, capacity: Int),
    suffix: (k: UnsafePointer<Float>, v: UnsafePointer<Float>, capacity: Int),
    rows: [SplitKVRow], shape: AttentionShape, scratch: UnsafeMutablePointer<Float>
) {
    let (NH, KVH, D) = (shape.NH, shape.KVH, shape.D)
    let group = NH / KVH
    let scale = 1 / Float(D).squareRoot()
    let kvStride = KVH * D, outStride = NH * D
    guard !rows.isEmpty else { return }
    // Runs of adjacent rows sharing a prefix.
    var found: [Range<Int>] = []
    var first = 0
    for i in 1...rows.count where i == rows.count || rows[i].prefixSlot != rows[first].prefixSlot || rows[i].prefixLength != rows[first].prefixLength {
        found.append(first..<i)
        first = i
    }
    let runs = found
    let width = rows.map { Int($0.prefixLength + $0.suffixLength) }.max() ?? 0
    let maxRun = runs.map(\.count).max() ?? 0
    let tasks = runs.count * NH
    let workers = min(Parallel.workers, tasks)
    let shared = Shared((out: out, q: q, pk: prefix.k, pv: prefix.v, sk: suffix.k, sv: suffix.v, scratch: scratch))
    let (prefixCapacity, suffixCapacity) = (prefix.capacity, suffix.capacity)
    Parallel.perform(workers) { w in
        let p = shared.value
        let scores = p.scratch + w * maxRun * width
        var task = w
        while task < tasks {
            let run = runs[task / NH], h = task % NH
            let m = run.count, np = Int(rows[run.lowerBound].prefixLength)
            let kvh = (h / group) * D
            let pBase = Int(rows[run.lowerBound].prefixSlot) * prefixCapacity * kvStride + kvh
            let qBlock = p.q + run.lowerBound * qStride + h * D
            let oBlock = p.out + run.lowerBound * outStride + h * D
            // Prefix scores for all rows of the run: (m, np) = scale · Q (m, D) · Kp (np, D)ᵀ, row stride `width`.
            if np > 0 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(np), Int32(D), scale, qBlock, Int32(qStride),
                            p.pk + pBase, Int32(kvStride), 0, scores, Int32(width))
            }
            for i in 0..<m {
                let row = rows[run.lowerBound + i], ns = Int(row.suffixLength)
                let sBase = Int(row.suffixSlot) * suffixCapacity * kvStride + kvh
                let sc = scores + i * width
                for s in 0..<ns { sc[np + s] = dot(qBlock + i * qStride, p.sk + sBase + s * kvStride, D) * scale }
                causalSoftmaxRow(sc, visible: np + ns, width: np + ns)
            }
            // out (m, D) = P[:, :np] · Vp, then the suffix values row by row.
            if np > 0 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(D), Int32(np), 1, scores, Int32(width),
                            p.pv + pBase, Int32(kvStride), 0, oBlock, Int32(outStride))
            } else {
                for i in 0..<m { (oBlock + i * outStride).initialize(repeating: 0, count: D) }
            }
            for i in 0..<m {
                let row = rows[run.lowerBound + i]
                let sBase = Int(row.suffixSlot) * suffixCapacity * kvStride + kvh
                for s in 0..<Int(row.suffixLength) { axpy(oBlock + i * outStride, scores[i * width + np + s], p.sv + sBase + s * kvStride, D) }
            }
            task += workers
        }
    }
}
