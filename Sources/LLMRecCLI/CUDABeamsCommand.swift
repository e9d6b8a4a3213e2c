// `llmrec cuda beams`: constrained beam search with the GPU's passes against the CPU's, on a
// generated catalog, and its speed (scripts/device/check.sh; bench_decode_torch.py times
// transformers' generate on the same catalog and prompts, written by --catalog-out).
import ArgumentParser
import CausalLM
import CUDABackend
import CUDAModel
import Decoding
import Foundation
import ItemIndex
import Kernels
import Support

struct CUDABeamsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beams",
        abstract: "Constrained beam search on the GPU against the CPU on a generated catalog: the same items, and the time per user.",
        discussion: """
            The catalog holds --titles random titles of 3 to 8 tokens ending in the end token, with \
            random popularity; the prompts are random token sequences of 40 to 80 tokens. Each decoder \
            (plain, --igd-alpha 0.2, --mask-softmax) ranks --count items with --beams beams for every \
            prompt on both sides; the lists must be the same items in the same order. Then the GPU is \
            timed one user at a time and with all users together. Exit 1 when a list differs.
            """
    )

    @OptionGroup var modelOptions: ModelOptions

    @OptionGroup var gpuPrecision: GPUPrecisionOptions
    var precision: Precision { gpuPrecision.precision }

    @Option(help: "Titles in the generated catalog.")
    var titles = 4000

    @Option(help: "Prompts (users).")
    var users = 8

    @Option(help: "Beams kept per step.")
    var beams = 10

    @Option(help: "Items ranked per user.")
    var count = 10

    @Option(help: "Write the catalog and prompts (JSON: eos, titles, prompts) here, for transformers' side.")
    var catalogOut: String?

    func validate() throws {
        guard titles > 0, users > 0, beams > 0, count > 0, count <= beams else {
            throw ValidationError("--titles, --users, --beams and --count must be positive, --count at most --beams")
        }
    }

    func run() throws {
        let model = try modelOptions.source().loadModel()
        let V = model.config.vocabSize
        let eos: Int32 = 2
        var random = SeededGenerator(seed: 11)
        var seen = Set<[Int32]>(), catalog: [[Int32]] = []
        while catalog.count < titles {
            // Titles share their first tokens often (as "The …" titles do), so the trie branches.
            let length = 3 + random.below(6)
            var title = [Int32(3 + random.below(min(V - 3, 50)))]
            while title.count < length {
                var t = Int32(random.below(V))
                while t == eos { t = Int32(random.below(V)) }
                title.append(t)
            }
            if seen.insert(title).inserted { catalog.append(title + [eos]) }
        }
        let counts = catalog.map { _ in 1 + random.below(100) }
        let prompts = (0..<users).map { _ in (0..<(40 + random.below(41))).map { _ in Int32(random.below(V)) } }
        if let catalogOut {
            let document: [String: Any] = ["eos": eos, "titles": catalog.map { $0.map(Int.init) }, "prompts": prompts.map { $0.map(Int.init) },
                                           "beams": beams, "count": count]
            try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: catalogOut), options: .atomic)
        }
        let ig = InformationGain(trie: try TokenTrie(sequences: catalog), targetCounts: counts, eosTokenID: eos)
        let device: CUDADevice
        do { device = try CUDADevice() } catch { throw CommandFailure("CUDA cannot be used here: \(error)") }
        let cpu = ConstrainedBeamSearch(model: model, ig: ig, precision: precision)
        let gpu = ConstrainedBeamSearch(model: model, ig: ig, passes: CUDABeamPasses(
            try CUDADecoder(model, device: device, precision: precision == .bf16 ? .bf16 : .fp32)))
        var differing = 0
        for (name, options) in [("plain", DecodingOptions(beams: beams, count: count)),
                                ("igd-alpha 0.2", DecodingOptions(beams: beams, count: count, igdAlpha: 0.2)),
                                ("mask-softmax", DecodingOptions(beams: beams, count: count, maskSoftmax: true))] {
            let want = try cpu.recommend(prompts, options: options), got = try gpu.recommend(prompts, options: options)
            let same = zip(want, got).filter { $0.map(\.item) == $1.map(\.item) }.count
            let gap = zip(want, got).flatMap { zip($0, $1).map { abs($0.score - $1.score) } }.max() ?? 0
            differing += users - same
            print(String(format: "beams %@ %@: %d of %d users with the same %d items as the CPU, largest score difference %.2e",
                         name, precision.rawValue, same, users, count, gap))
        }
        let options = DecodingOptions(beams: beams, count: count)
        _ = try gpu.recommend([prompts[0]], options: options)  // warm-up: kernel compilation, memory
        var start = Date()
        for p in prompts { _ = try gpu.recommend([p], options: options) }
        let perUser = Date().timeIntervalSince(start) / Double(users)
        start = Date()
        _ = try gpu.recommend(prompts, options: options)
        let together = Date().timeIntervalSince(start)
        print(String(format: "beams llmrec %@ on %@: %d titles, %d beams: %.1f ms per user one at a time, %.1f users/s with %d together",
                     precision.rawValue, device.name, titles, beams, perUser * 1000, Double(users) / together, users))
        if differing > 0 { throw ExitCode(1) }
    }
}
