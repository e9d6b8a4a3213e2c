// The losses against values worked out by hand, against each other where the brief says they
// coincide, and their gradients against finite differences; the ATS update by hand.
import Foundation
import ItemIndex
import Testing
@testable import Training

/// Loss and gradient for logits given as rows.
func evaluate(_ s: LossSettings, _ rows: [[Float]], _ positions: [ScoredPosition]) -> (Double, [Float]) {
    let V = rows[0].count
    let flat = rows.flatMap { $0 }
    var grad = [Float](repeating: .nan, count: flat.count)
    let loss = tokenLoss(s, logits: flat, V: V, positions: positions, grad: &grad)
    return (loss, grad)
}

let rows: [[Float]] = [[1, 2, 3, 0.5, -1], [0.2, -0.4, 1.5, 2.5, 0], [3, 1, -2, 0, 0.7]]
let positions = [
    ScoredPosition(target: 2, valid: [1, 2, 4], informationGain: 0.7, isEOS: false),
    ScoredPosition(target: 3, valid: [3], informationGain: 0, isEOS: false),       // only child: zero IG, |V| = 1
    ScoredPosition(target: 0, valid: [0, 3], informationGain: 0, isEOS: true),     // EOS
]

@Suite("Token losses")
struct TokenLossTests {
    @Test func crossEntropyByHand() {
        let (loss, grad) = evaluate(LossSettings(kind: .ce), [[1, 2, 3]], [ScoredPosition(target: 2, valid: [2], informationGain: 1, isEOS: false)])
        let lse = log(exp(1.0) + exp(2.0) + exp(3.0))
        #expect(abs(loss - (lse - 3)) < 1e-6)  // 0.407606
        #expect(abs(Double(grad[0]) - exp(1 - lse)) < 1e-6 && abs(Double(grad[2]) - (exp(3 - lse) - 1)) < 1e-6)
    }

    @Test func mslAtTauOneIsCrossEntropyOverTheValidSet() {
        let (msl, _) = evaluate(LossSettings(kind: .msl, tau: 1), [rows[0]], [positions[0]])
        let restricted = positions[0].valid.map { rows[0][Int($0)] }
        let (ce, _) = evaluate(LossSettings(kind: .ce), [restricted], [ScoredPosition(target: 1, valid: [], informationGain: 1, isEOS: false)])
        #expect(abs(msl - ce) < 1e-6)
    }

    @Test func mslLeavesOutSingleChoicePositions() {
        let (all, grad) = evaluate(LossSettings(kind: .msl, tau: 1.5), rows, positions)
        let (two, _) = evaluate(LossSettings(kind: .msl, tau: 1.5), [rows[0], rows[2]], [positions[0], positions[2]])
        #expect(abs(all - two) < 1e-9, "the |V| = 1 position is neither scored nor counted")
        #expect(grad[5..<10].allSatisfy { $0 == 0 })
        #expect(grad[0] == 0 && grad[3] == 0, "no gradient outside the valid set")
    }

    @Test func igdWeightsByHand() {
        #expect(igdWeight(positions[0], beta: 0.2) == 1)
        #expect(igdWeight(positions[1], beta: 0.2) == 0.2)
        #expect(igdWeight(positions[2], beta: 0.2) == 0.2, "EOS gets β")
        let ce = (0..<3).map { t in evaluate(LossSettings(kind: .ce), [rows[t]], [positions[t]]).0 }
        let (igd, _) = evaluate(LossSettings(kind: .igd, beta: 0.2), rows, positions)
        #expect(abs(igd - (ce[0] + 0.2 * ce[1] + 0.2 * ce[2]) / 1.4) < 1e-9)
        let (plain, _) = evaluate(LossSettings(kind: .ce), rows, positions)
        #expect(abs(plain - ce.reduce(0, +) / 3) < 1e-9)
        let msl = [0, 2].map { t in evaluate(LossSettings(kind: .msl, tau: 2), [rows[t]], [positions[t]]).0 }
        let (mslIGD, _) = evaluate(LossSettings(kind: .mslIGD, beta: 0.2, tau: 2), rows, positions)
        #expect(abs(mslIGD - (msl[0] + 0.2 * msl[1]) / 1.2) < 1e-9)
    }

    @Test(arguments: [LossKind.ce, .igd, .msl, .mslIGD])
    func gradientsMatchFiniteDifferences(_ kind: LossKind) {
        let s = LossSettings(kind: kind, beta: 0.3, tau: 1.7, scaleByTau: kind == .msl)
        let (_, grad) = evaluate(s, rows, positions)
        let h: Float = 1e-2
        for t in 0..<rows.count {
            for v in 0..<rows[t].count {
                var up = rows, down = rows
                up[t][v] += h
                down[t][v] -= h
                let numeric = (evaluate(s, up, positions).0 - evaluate(s, down, positions).0) / Double(2 * h)
                #expect(abs(numeric - Double(grad[t * 5 + v])) < 2e-4, "\(kind) d/dz[\(t)][\(v)]: \(numeric) vs \(grad[t * 5 + v])")
            }
        }
    }

    @Test func atsScalesTheLossByTau() {
        let (a, _) = evaluate(LossSettings(kind: .msl, tau: 2.5), rows, positions)
        let (b, _) = evaluate(LossSettings(kind: .msl, tau: 2.5, scaleByTau: true), rows, positions)
        #expect(abs(b - 2.5 * a) < 1e-9)
    }
}

@Suite("Adaptive temperature")
struct AdaptiveTemperatureTests {
    /// Runs an update on rows given as arrays.
    func update(_ ats: inout AdaptiveTemperature, _ rows: [[Float]], _ valid: [[Int32]], _ targets: [Int32]) -> AdaptiveTemperature.Step {
        let flat = rows.flatMap { $0 }
        return flat.withUnsafeBufferPointer { p in
            ats.update(firstPositions: rows.indices.map { (p.baseAddress! + $0 * rows[0].count, valid[$0], targets[$0]) })
        }
    }

    @Test func updateByHand() {
        // Two samples, 8 valid tokens each (N₁ = 8, C = ln 2), targets 0 and 1.
        //   μ⁺ = (4 + 2)/2 = 3; the 16 valid logits have mean 6/16 = 0.375 and unbiased variance
        //   (3.625² + 14·0.375² + 1.625²)/15 = 17.75/15; Δμ = 2.625.
        var ats = AdaptiveTemperature()
        let all: [Int32] = Array(0..<8)
        let step = update(&ats, [[4, 0, 0, 0, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0, 0, 0]], [all, all], [0, 1])
        let c = log(2.0), variance = 17.75 / 15, dmu = 2.625
        let tauStar = (dmu + (dmu * dmu - 2 * c * variance).squareRoot()) / (2 * c)  // 3.5464
        #expect(abs(step.c - c) < 1e-12 && abs(step.variance - variance) < 1e-12 && abs(step.deltaMu - dmu) < 1e-12)
        #expect(abs(step.tauStar! - tauStar) < 1e-9 && step.unclamped == step.tauStar)
        #expect(abs(ats.tau - (0.95 * 1.5 + 0.05 * tauStar)) < 1e-9)
    }

    @Test func skipsWhenCIsNotPositive() {
        // Four valid tokens: C = ln(0.25 · 4) = 0, where the reference divides by zero.
        var ats = AdaptiveTemperature()
        let step = update(&ats, [[3, 0, 0, 0]], [[0, 1, 2, 3]], [0])
        #expect(step.skipped && step.tauStar == nil)
        #expect(ats.tau == 1.5)
    }

    @Test func clampsToItsRange() {
        var ats = AdaptiveTemperature()
        let all: [Int32] = Array(0..<64)
        var row = [Float](repeating: 0, count: 64)
        row[0] = 100  // a huge margin: τ* far above 5
        let step = update(&ats, [row], [all], [0])
        // Δμ = 100 − 100/64, σ² = (100² − 64·(100/64)²)/63, C = ln 16: τ* ≈ 34.7 before the clamp.
        let dmu = 100 - 100.0 / 64, variance = (10_000 - 64 * (100.0 / 64) * (100.0 / 64)) / 63, c = log(16.0)
        #expect(step.tauStar == 5 && abs(step.unclamped! - (dmu + (dmu * dmu - 2 * c * variance).squareRoot()) / (2 * c)) < 1e-9)
        #expect(abs(ats.tau - (0.95 * 1.5 + 0.05 * 5)) < 1e-12)
        // No margin at all: τ* = 0 before the clamp, so 1.5.
        var flat = AdaptiveTemperature()
        let s2 = update(&flat, [[Float](repeating: 1, count: 64)], [all], [0])
        #expect(s2.tauStar == 1.5 && s2.unclamped == 0)
    }
}

@Suite("Response positions")
struct ResponsePositionTests {
    @Test func positionsFromTheTrie() throws {
        // The catalog of the IG tests: A = [5, 1, 9], B = [5, 2, 9], C = [6, 9], D = [7, 8, 9]; EOS = 9.
        let trie = try TokenTrie(sequences: [[5, 1, 9], [5, 2, 9], [6, 9], [7, 8, 9]])
        let ig = InformationGain(trie: trie, targetCounts: [2, 1, 1, 0], eosTokenID: 9)
        let a = ig.scoredPositions(ofItem: 0)
        #expect(a.map(\.target) == [5, 1, 9])
        #expect(a.map(\.valid) == [[5, 6, 7], [1, 2], [9]])
        #expect(a.map(\.isEOS) == [false, false, true])
        #expect(abs(a[0].informationGain - log(2.0) / 2) < 1e-12)
        let d = ig.scoredPositions(ofItem: 3)
        #expect(d.map(\.valid) == [[5, 6, 7], [8], [9]])
        #expect(igdWeight(d[1], beta: 0.1) == 0.1, "8 is the only way on: zero IG, weight β")
        // Under MSL only the first position of D counts (|V| > 1).
        #expect(d.filter { $0.valid.count > 1 }.count == 1)
    }
}
