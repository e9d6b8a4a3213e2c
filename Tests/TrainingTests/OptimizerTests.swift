// AdamW, clipping and the schedules against PyTorch and transformers
// (scripts/fixtures/make_training_fixtures.py).
import Foundation
import Testing
@testable import Training

struct OptimizerFixture: Decodable {
    let p0: [Float]
    let grads: [[Float]]
    let lrs: [Double]
    let betas: [Double]
    let eps: Double
    let weight_decay: Double
    let trajectory: [[Float]]
    let clip_norm_before: Double
    let clipped: [Float]
    let schedules: [String: [Double]]
    let peak: Double
    let warmup: Int
    let total: Int
}

let optimizerFixture: OptimizerFixture = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/optimizer.json")
    return try! JSONDecoder().decode(OptimizerFixture.self, from: Data(contentsOf: url))
}()

@Suite("Optimiser")
struct OptimizerTests {
    @Test func adamWFollowsTorch() {
        let f = optimizerFixture
        let opt = AdamW(count: f.p0.count, settings: AdamWSettings(beta1: f.betas[0], beta2: f.betas[1], eps: f.eps, weightDecay: f.weight_decay))
        var p = f.p0
        for (k, (g, lr)) in zip(f.grads, f.lrs).enumerated() {
            opt.update(params: &p, grads: g, lr: lr)
            let diff = zip(p, f.trajectory[k]).map { abs($0 - $1) }.max()!
            #expect(diff < 1e-6, "step \(k + 1): max difference \(diff)")
        }
        #expect(opt.step == 4)
    }

    @Test func clippingFollowsTorch() {
        var g = optimizerFixture.grads[2]
        let norm = clipGradientNorm(&g, count: g.count, maxNorm: 1)
        #expect(abs(norm - optimizerFixture.clip_norm_before) < 1e-5)
        #expect(zip(g, optimizerFixture.clipped).allSatisfy { abs($0 - $1) < 1e-6 })
        var small: [Float] = [0.1, 0.2]
        clipGradientNorm(&small, count: 2, maxNorm: 1)
        #expect(small == [0.1, 0.2], "below the limit nothing changes")
    }

    @Test(arguments: LRSchedule.allCases)
    func schedulesFollowTransformers(_ schedule: LRSchedule) throws {
        let f = optimizerFixture
        let want = try #require(f.schedules[schedule.rawValue])
        for (step, rate) in want.enumerated() {
            #expect(abs(schedule.rate(step: step, peak: f.peak, warmup: f.warmup, total: f.total) - rate) < 1e-12, "step \(step)")
        }
    }
}
