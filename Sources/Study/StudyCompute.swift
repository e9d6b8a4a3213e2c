// Where a study's arms are trained and evaluated: the CPU, unless the command line hands the
// runner a GPU's training engine and beam passes (`study run --device cuda`). The Study module
// stays free of any backend; it only records which device each arm's work ran on.
import CausalLM
import Decoding
import Kernels
import Training

public struct StudyCompute {
    /// "cpu", or the device's name (recorded with each arm's training and evaluations).
    public let device: String
    /// Which kind of device it is (an arm the plan pins to another kind waits for a run there).
    public let kind: StudyDevice
    /// The training engine for a model, its settings and its adapter (nil: the CPU's engine).
    public let engine: ((DecoderModel, TrainingParameters, LoRAAdapter?) throws -> TrainingEngine)?
    /// The beam search's passes for a model in a precision (nil: the CPU's).
    public let passes: ((DecoderModel, Precision) throws -> BeamPasses)?

    public init(device: String, kind: StudyDevice, engine: ((DecoderModel, TrainingParameters, LoRAAdapter?) throws -> TrainingEngine)?,
                passes: ((DecoderModel, Precision) throws -> BeamPasses)?) {
        (self.device, self.kind, self.engine, self.passes) = (device, kind, engine, passes)
    }

    public static var cpu: StudyCompute { StudyCompute(device: "cpu", kind: .cpu, engine: nil, passes: nil) }

    /// Whether this run may train and evaluate `arm` (the plan may pin it to another device).
    func runs(_ arm: ArmSpec) -> Bool { arm.device.map { $0 == kind } ?? true }

    /// What the records store: nothing for the CPU (the files of CPU studies stay as they were).
    var recorded: String? { device == "cpu" ? nil : device }
}
