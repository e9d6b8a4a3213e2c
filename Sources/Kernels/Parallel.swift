// The one thread pool of the numeric code (WorkerPool). OpenBLAS runs single-threaded and we
// split each product ourselves: with OpenBLAS's own threads, its idle workers spin in
// sched_yield while our kernels run, and on two cores that costs about a sixth of the forward
// pass (perf).
import COpenBLAS
import Dispatch
import Foundation

public enum Parallel {
    /// Workers used for every parallel loop: one per core, or LLMREC_THREADS when it is set
    /// (a positive whole number; anything else is ignored).
    public static let workers: Int = {
        openblas_set_num_threads(1)
        if let value = ProcessInfo.processInfo.environment["LLMREC_THREADS"], let n = Int(value), n > 0 { return min(n, 256) }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body` on disjoint chunks covering 0..<count, at most one chunk per worker,
    /// each at least `minChunk` long (small work stays on one thread).
    @inline(__always)
    public static func chunks(_ count: Int, minChunk: Int = 1, align: Int = 1, _ body: (Range<Int>) -> Void) {
        let n = min(workers, max(1, count / max(minChunk, 1)))
        if n <= 1 {
            body(0..<count)
            return
        }
        let step = (count + n - 1) / n
        let aligned = (step + align - 1) / align * align
        perform(n) { i in
            let lo = i * aligned, hi = min(count, lo + aligned)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// The k-th of `parts` consecutive ranges that cover 0..<count in order, each ⌈count / parts⌉
    /// long but the last ones, which are shorter or empty (when parts > count).
    @inline(__always)
    public static func share(_ k: Int, of parts: Int, _ count: Int) -> Range<Int> {
        let step = (count + parts - 1) / max(parts, 1)
        return min(count, k * step)..<min(count, (k + 1) * step)
    }

    /// Calls body(i) for every i in 0..<n, spread over the workers (as
    /// DispatchQueue.concurrentPerform, on threads that stay awake between loops).
    public static func perform(_ n: Int, _ body: (Int) -> Void) {
        if n == 1 { body(0) } else { pool.perform(n, body) }
    }

    private static let pool = WorkerPool(helpers: workers - 1)
}
