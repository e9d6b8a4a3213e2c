// The fine-tuning losses on the GPU (Training/TokenLoss.swift's): the scale of each position
// comes from the losses' one description (LossRows, worked out on the host), and each row's
// loss and gradient on the device: CE and IGD over the whole vocabulary, MSL and MSL+IGD over the
// position's valid next tokens only (sparse lists, never a dense mask).
import CUDABackend
import Foundation
import Training

extension CUDATrainingPass {
    /// The loss over the tape's output rows, and d loss / d logits (R, V) on the device.
    public func loss(_ settings: LossSettings, positions: [ScoredPosition], tape: CUDATrainingTape) throws -> (loss: Double, dlogits: DeviceBuffer<Float>) {
        precondition(positions.count == tape.rows, "one scored position per output row")
        return try tokenLossOnDevice(settings, logits: tape.logits, V: config.vocabSize, positions: positions, device: device)
    }
}

/// tokenLoss (Training/TokenLoss.swift) of logits (positions.count, V) on `device`: the loss, and
/// d loss / d logits on the device.
public func tokenLossOnDevice(_ settings: LossSettings, logits: DeviceBuffer<Float>, V: Int, positions: [ScoredPosition],
                              device d: CUDADevice) throws -> (loss: Double, dlogits: DeviceBuffer<Float>) {
    let R = positions.count
    let rows = LossRows(settings, positions: positions)
    let scales = rows.scales.map(Float.init)
    let grad = try d.allocate(Float.self, count: max(R, 1) * V)
    try grad.fill(bits: 0)
    guard rows.scales.contains(where: { $0 > 0 }) else { return (0, grad) }
    let losses = try d.allocate(Float.self, count: R)
    let dTargets = try d.upload(positions.map(\.target)), dScales = try d.upload(scales)
    if let tau = rows.maskedTau {
        var starts: [Int32] = [0], tokens: [Int32] = []
        for p in positions {
            tokens += p.valid
            starts.append(Int32(tokens.count))
        }
        let dStarts = try d.upload(starts), dTokens = try d.upload(tokens.isEmpty ? [0] : tokens)
        try d.launch("masked_softmax_rows", grid: (R, 1), block: 128,
                     [grad.argument, losses.argument, logits.argument, dStarts.argument, dTokens.argument, dTargets.argument,
                      dScales.argument, .float(Float(tau)), .int32(Int32(R)), .int32(Int32(V))])
    } else {
        try d.launch("softmax_xent_rows", grid: (R, 1), block: 256,
                     [grad.argument, losses.argument, logits.argument, dTargets.argument, dScales.argument, .int32(Int32(R)), .int32(Int32(V))])
    }
    let rowLosses = try losses.download()
    var loss = 0.0
    for t in 0..<R where rows.scales[t] > 0 { loss += Double(scales[t]) * Double(rowLosses[t]) }
    return (loss, grad)
}
