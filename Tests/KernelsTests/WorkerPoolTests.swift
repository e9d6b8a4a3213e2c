// The worker pool runs every iteration of every loop exactly once, also when several threads
// start loops at once and loops start inside loops (those go through libdispatch).
import Testing
@testable import Kernels

@Suite("Worker pool")
struct WorkerPoolTests {
    @Test func everyIterationRunsOnceInManyLoopsInARow() {
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 64)
        defer { counts.deallocate() }
        let shared = Shared(counts)
        for n in (0..<2000).map({ 1 + $0 % 64 }) {
            counts.initialize(repeating: 0)
            Parallel.perform(n) { shared.value[$0] += 1 }
            #expect(counts[0..<n].allSatisfy { $0 == 1 } && counts[n...].allSatisfy { $0 == 0 }, "n = \(n)")
        }
    }

    @Test func sharesCoverEveryIndexOnceInOrderAlsoWithMorePartsThanIndices() {
        // 16 workers over a 10-row batch gave a share starting past its end (a crash on a 16-core machine).
        for count in 0...40 {
            for parts in 1...20 {
                let shares = (0..<parts).map { Parallel.share($0, of: parts, count) }
                #expect(Array(shares.joined()) == Array(0..<count), "count \(count), parts \(parts)")
                #expect(shares.allSatisfy { $0.count <= (count + parts - 1) / parts }, "count \(count), parts \(parts)")
            }
        }
    }

    @Test func loopsFromSeveralThreadsAndNestedLoopsAllComplete() async {
        // While one caller owns the helpers, the others (and loops inside a loop) go through
        // libdispatch; every sum must still come out whole.
        let sums = await withTaskGroup(of: Int.self) { group in
            for t in 0..<4 {
                group.addTask {
                    var total = 0
                    for _ in 0..<200 {
                        let cells = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8)
                        cells.initialize(repeating: 0)
                        let shared = Shared(cells)
                        Parallel.perform(8) { i in
                            let inner = UnsafeMutableBufferPointer<Int>.allocate(capacity: 3)
                            inner.initialize(repeating: 0)
                            let innerShared = Shared(inner)
                            Parallel.perform(3) { innerShared.value[$0] = i + t }
                            shared.value[i] = inner.reduce(0, +)
                            inner.deallocate()
                        }
                        total += cells.reduce(0, +)
                        cells.deallocate()
                    }
                    return total
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        // Per loop: Σ_i 3(i + t) = 3(28 + 8t).
        #expect(sums.sorted() == (0..<4).map { 200 * 3 * (28 + 8 * $0) })
    }
}
