// Helper threads that stay awake between parallel loops. A decoding pass runs about 200
// parallel loops of 0.1–0.6 ms each (30 layers × products, attention); through
// DispatchQueue.concurrentPerform the second core joins each loop 50–130 µs late (measured on
// this 2-core VM by scripts/bench/handoff.sh: two 100 µs halves took 155–231 µs), because its
// thread went to sleep after the last loop. Here helpers spin on a generation counter for about a millisecond after each loop
// and only then sleep, so they join within a microsecond or two while loops follow each other.
// Iterations are claimed from a shared counter: a late helper simply finds less to do.
import CPanelKernels
import Dispatch
import Foundation
import Synchronization

final class WorkerPool: @unchecked Sendable {
    private let helpers: Int
    /// The loop's generation (high 32 bits), a flag set once its iterations are all claimed
    /// (bit 31: helpers arriving later leave at once), and the helpers inside it (low bits).
    /// One word, so that joining and closing cannot cross.
    private let state = Atomic<Int>(0)
    private static let closedFlag = 1 << 31, countMask = closedFlag - 1
    private let nextIteration = Atomic<Int>(0)
    /// One caller at a time owns the helpers; others use libdispatch.
    private let owned = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    // The current loop, written before its generation is published and read only by helpers
    // that joined it.
    private var iterations = 0
    private var body: ((Int) -> Void)?
    private var generation = 0

    /// Spins (each a `pause`, tens of cycles) before a helper sleeps: about a millisecond.
    private static let spinsBeforeSleep = 30_000

    init(helpers: Int) {
        self.helpers = helpers
        for _ in 0..<helpers {
            let thread = Thread { [unowned self] in self.helperLoop() }
            thread.name = "llmrec-worker"
            thread.start()
        }
    }

    /// Calls body(i) for every i in 0..<n, on the caller and the helpers.
    func perform(_ n: Int, _ body: (Int) -> Void) {
        guard n > 1, helpers > 0, owned.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            withoutActuallyEscaping(body) { body in
                let shared = Shared(body)
                DispatchQueue.concurrentPerform(iterations: n) { shared.value($0) }
            }
            return
        }
        withoutActuallyEscaping(body) { body in
            self.body = body
            iterations = n
            nextIteration.store(0, ordering: .relaxed)
            generation += 1
            // Every helper has left the previous loop, so the count starts at zero.
            state.store(generation << 32, ordering: .sequentiallyConsistent)
            let asleep = sleepers.load(ordering: .sequentiallyConsistent)
            for _ in 0..<asleep { wake.signal() }
            claimIterations()
            state.bitwiseOr(Self.closedFlag, ordering: .sequentiallyConsistent)
            while state.load(ordering: .acquiring) & Self.countMask != 0 { llmrec_cpu_relax() }
            self.body = nil
        }
        owned.store(false, ordering: .releasing)
    }

    private func claimIterations() {
        while true {
            let i = nextIteration.add(1, ordering: .relaxed).oldValue
            guard i < iterations else { return }
            body!(i)
        }
    }

    /// Joins loop `g` unless it is closed or over.
    private func join(_ g: Int) -> Bool {
        var s = state.load(ordering: .sequentiallyConsistent)
        while s >> 32 == g, s & Self.closedFlag == 0 {
            let (exchanged, now) = state.compareExchange(expected: s, desired: s + 1, ordering: .sequentiallyConsistent)
            if exchanged { return true }
            s = now
        }
        return false
    }

    private func helperLoop() {
        var seen = 0
        while true {
            var spins = 0
            while state.load(ordering: .acquiring) >> 32 == seen {
                spins += 1
                if spins < Self.spinsBeforeSleep {
                    llmrec_cpu_relax()
                    continue
                }
                sleepers.add(1, ordering: .sequentiallyConsistent)
                if state.load(ordering: .sequentiallyConsistent) >> 32 == seen { wake.wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                spins = 0
            }
            seen = state.load(ordering: .acquiring) >> 32
            if join(seen) {
                claimIterations()
                state.subtract(1, ordering: .sequentiallyConsistent)
            }
        }
    }
}
