// The server's answers, decoded in batches of concurrent requests, equal what `llmrec recommend`
// computes for each history alone (the same Recommender, one history per call), on the real
// SmolLM2 and MovieLens-100K.
import CatalogIndex
import CausalLM
import Decoding
import Foundation
import RecData
@testable import Serving
import Support
import Testing

@Suite("serve: answers equal recommend", .serialized,
       .enabled(if: Assets.smollm2.isPresent && Assets.ml100k.isPresent, "needs SmolLM2 and MovieLens-100K; run scripts/fetch-assets.sh"))
struct ServerMatchesRecommendTests {
    static let recommender: Recommender = {
        var options = BuildOptions()
        options.maxTrain = 2000
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmrec-serve-ml100k-\(UUID().uuidString.prefix(8))")
        let source = try! DataSource.resolve(dataset: "ml-100k", items: nil, format: .auto)
        _ = try! DatasetPreparation.run(source: source, options: options, out: out, replace: false)
        let (model, tokenizer) = try! ModelSource.resolve("smollm2").load()
        return Recommender(model: model, catalog: try! TokenizedCatalog(dataset: DatasetReader.open(out), tokenizer: tokenizer), name: "smollm2")
    }()

    @Test func concurrentRequestsAreBatchedAndEqualOneAtATime() async throws {
        let r = Self.recommender
        var settings = ServeSettings()
        settings.maxBatch = 8
        settings.maxWait = .milliseconds(400)
        let running = try await RunningServer.start(r, settings)
        let titles = r.catalog.titles
        // Six histories; different k, IGD and mask-softmax options; one given by ids.
        let requests: [[String: Any]] = [
            ["history": [titles[0], titles[10]], "k": 5],
            ["history": [titles[100]]],
            ["history": [titles[3], titles[50], titles[7]], "k": 3, "igd_alpha": 0.1],
            ["history_ids": [20, 30], "k": 4],
            ["history": [titles[200], titles[201]], "mask_softmax": true, "k": 2],
            ["history": [titles[500]], "k": 10],
        ]
        let bodies = try requests.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        let replies = try await withThrowingTaskGroup(of: (Int, RunningServer.Reply).self) { group in
            for (i, body) in bodies.enumerated() { group.addTask { (i, try await running.send(.POST, "/v1/recommend", body: body)) } }
            var out = [RunningServer.Reply?](repeating: nil, count: requests.count)
            for try await (i, reply) in group { out[i] = reply }
            return out.map { $0! }
        }
        for (body, reply) in zip(requests, replies) {
            #expect(reply.status == 200, "\(reply.text)")
            let history = (body["history_ids"] as? [Int]) ?? (body["history"] as! [String]).map { r.catalog.item(titled: $0)! }
            let k = body["k"] as? Int ?? 10
            let options = DecodingOptions(beams: 10, count: k, igdAlpha: body["igd_alpha"] as? Double ?? 0, maskSoftmax: body["mask_softmax"] as? Bool ?? false)
            let alone = try r.recommend([history], options: options)[0].items
            let got = ranking(reply)
            #expect(got.map(\.id) == alone.map(\.item), "\(body)")
            // Batched passes group rows differently (attention's small products, forced tokens read
            // ahead only for few beams), so sums of float32 log-probabilities differ by rounding.
            for (a, b) in zip(got, alone) { #expect(abs(a.score - b.score) <= 1e-5 * (1 + abs(b.score)), "\(a.score) vs \(b.score)") }
            let items = reply.object["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["title"] as? String } == alone.map { r.catalog.titles[$0.item] })
        }
        // The six requests went through fewer searches than requests.
        let metrics = try await running.send(.GET, "/metrics").text
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("llmrec_batch_size_requests_count") }
        let batches = line.flatMap { Int($0.split(separator: " ").last!) } ?? 0
        #expect(batches >= 1 && batches < requests.count, "\(line ?? "no batch count")")
        try await running.stop()
    }
}
