// How late the second core joins a parallel loop: two halves of 100 µs of busy work each, timed
// through DispatchQueue.concurrentPerform and through llmrec's WorkerPool (compiled in beside
// this file by handoff.sh). Ideal: 100 µs a loop. Also the same with 20 µs of serial work
// between loops, as between a decoding pass's products.
import Dispatch
import Foundation

// What WorkerPool takes from the rest of the package.
@inline(never) func benchRelax() {}
struct Shared<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

func busy(_ microseconds: Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    while Double(DispatchTime.now().uptimeNanoseconds - start) < microseconds * 1000 {}
}

func timeLoops(_ label: String, serial: Double, _ loop: () -> Void) {
    let n = 2000
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<n {
        loop()
        if serial > 0 { busy(serial) }
    }
    let us = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(n) / 1000 - serial
    print("\(label.padding(toLength: 54, withPad: " ", startingAt: 0)) \(String(format: "%6.1f", us)) µs a loop")
}

let pool = WorkerPool(helpers: 1)
for serial in [0.0, 20.0] {
    let gap = serial > 0 ? ", 20 µs serial between" : ""
    timeLoops("concurrentPerform, 2 × 100 µs" + gap, serial: serial) { DispatchQueue.concurrentPerform(iterations: 2) { _ in busy(100) } }
    timeLoops("WorkerPool, 2 × 100 µs" + gap, serial: serial) { pool.perform(2) { _ in busy(100) } }
}
