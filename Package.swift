// swift-tools-version:6.1
// llmrec: fine-tune a small language model into a generative recommender and serve it.
// Modules follow the pipeline of the design brief ("A ← B": B uses A):
//   data:      Support ← RecData
//   model:     Support ← ModelFormats ← Tokenizers ← CausalLM, and COpenBLAS, CPanelKernels ← Kernels ← CausalLM
//   catalog:   RecData, Tokenizers, ItemIndex ← CatalogIndex (the catalog as the model sees it)
//   training:  CatalogIndex, CausalLM ← Training
//   decoding:  CatalogIndex, CausalLM ← Decoding (recommender, beam search, step scores) ← Evaluation
//   serving:   Support ← APIRequests (request parsing); APIRequests, Decoding ← Serving (Hummingbird)
//   studies:   Training, Evaluation ← Study (plans, resumable runs, reports)
//   GPU:       CCUDA ← CUDABackend (driver, NVRTC, cuBLAS opened at run time); CUDABackend, CausalLM, Decoding, Training ← CUDAModel;
//              CUDAModel, Kernels, Training ← CUDAChecks
//   all of them ← LLMRecCLI.
import PackageDescription

// Numeric code is compiled optimised even in debug builds: unoptimised, the model's loops run
// 30–50× slower and the tests against the real model would take minutes.
let optimizedAlways: [SwiftSetting] = [.unsafeFlags(["-O"])]

let package = Package(
    name: "llmrec",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "llmrec", targets: ["LLMRecCLI"]),
        // What the fuzzers (Fuzz/) exercise: every reader of files and requests, without the server.
        .library(name: "LLMRecParsers", targets: ["Support", "RecData", "ModelFormats", "Tokenizers", "CausalLM", "Training", "APIRequests"]),
        .library(name: "LLMRecKit", targets: ["Support", "RecData", "ModelFormats", "Tokenizers", "Kernels", "CausalLM", "ItemIndex", "CatalogIndex", "Training", "Decoding", "Evaluation", "APIRequests", "Serving", "Study"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Shared plumbing: errors, atomic output directories, seeded RNG, progress bar, asset paths.
        .target(name: "Support"),
        // Data: readers for every interaction format, catalog, samples, splits, prompts, dataset directories.
        .target(name: "RecData", dependencies: ["Support"]),
        // Model files: GGUF (with ggml dequantisation), safetensors, Hugging Face config.json.
        .target(name: "ModelFormats", dependencies: ["Support"], swiftSettings: optimizedAlways),
        // Byte-level BPE: pre-tokenizer splits per model family, merges, added tokens, chat prompt.
        .target(name: "Tokenizers", dependencies: ["ModelFormats", "Support"]),
        // The catalog's token trie and each token's information gain (IGD).
        .target(name: "ItemIndex", swiftSettings: optimizedAlways),
        // The catalog as a model sees it: response tokens, the trie with IG, prompts, the shared header.
        .target(name: "CatalogIndex", dependencies: ["ItemIndex", "RecData", "Tokenizers"]),
        // Fine-tuning: the CE / IGD / MSL / MSL+IGD losses and ATS, the trainer, runs and checkpoints, export.
        .target(name: "Training", dependencies: ["CatalogIndex", "CausalLM", "ItemIndex", "Kernels", "RecData", "Support", "Tokenizers"], swiftSettings: optimizedAlways),
        // Recommending: history → ranked items by constrained beam search over the catalog trie (IGD decoding, masked softmax, length penalty).
        .target(name: "Decoding", dependencies: ["CatalogIndex", "CausalLM", "ItemIndex", "Kernels", "RecData"], swiftSettings: optimizedAlways),
        // Evaluation: HR/NDCG, the popularity baseline, a loop over the recommender, evaluation files, paired comparisons.
        .target(name: "Evaluation", dependencies: ["Decoding", "RecData", "Support"]),
        // The HTTP API's requests as data (body and query parsing), apart from the server so that it can be fuzzed alone.
        .target(name: "APIRequests", dependencies: ["Support"]),
        // Serving: the HTTP API on Hummingbird, dynamic batching onto one model worker, Prometheus metrics.
        .target(
            name: "Serving",
            dependencies: [
                "APIRequests", "Decoding", "RecData", "Support",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Studies: a plan of arms trained and evaluated on the same samples, resumable across sittings; the report.
        .target(name: "Study", dependencies: ["CatalogIndex", "CausalLM", "Decoding", "Evaluation", "ItemIndex", "Kernels", "RecData", "Support", "Tokenizers", "Training"]),
        // OpenBLAS from Debian (libopenblas-dev): matrix products.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // CPU kernels: matmul (BLAS + naive reference), RMSNorm, RoPE, attention, SwiGLU.
        .target(name: "Kernels", dependencies: ["COpenBLAS", "CPanelKernels"], swiftSettings: optimizedAlways),
        // The AVX-512 product against pre-packed weights (inference), chosen at run time; optimised in every build.
        .target(name: "CPanelKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // The decoder-only language model: config, flat weights, loading, forward pass, KV cache.
        .target(name: "CausalLM", dependencies: ["Kernels", "ModelFormats", "Tokenizers", "Support"], swiftSettings: optimizedAlways),
        // The entry points of the CUDA driver, NVRTC and cuBLAS, bound with dlsym: nothing of CUDA is needed to build.
        .target(name: "CCUDA", linkerSettings: [.linkedLibrary("dl")]),
        // The CUDA backend: the GPU, its memory, the kernels (CUDA C compiled by NVRTC on first use, cached), cuBLAS products.
        .target(name: "CUDABackend", dependencies: ["CCUDA", "Support"]),
        // The decoder on the GPU: parameters in the CPU model's layout, the forward pass with a KV cache on the
        // device, the training passes and the losses, the beam search's passes.
        .target(name: "CUDAModel", dependencies: ["CausalLM", "CUDABackend", "Decoding", "Kernels", "Training"]),
        // The CUDA kernels checked against the CPU kernels on the GPU (`llmrec cuda check`).
        .target(name: "CUDAChecks", dependencies: ["CUDABackend", "CUDAModel", "CPanelKernels", "Kernels", "Support", "Training"]),
        // The `llmrec` command line: thin, one file per command group.
        .executableTarget(
            name: "LLMRecCLI",
            dependencies: [
                "Support", "RecData", "ModelFormats", "Tokenizers", "Kernels", "CausalLM", "ItemIndex", "CatalogIndex", "Training", "Decoding", "Evaluation", "Serving", "Study",
                "CUDABackend", "CUDAChecks", "CUDAModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "RecDataTests", dependencies: ["RecData", "Support"], exclude: ["Fixtures"]),
        .testTarget(name: "ModelFormatsTests", dependencies: ["ModelFormats"], exclude: ["Fixtures"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "ModelFormats"], exclude: ["Fixtures"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "ItemIndexTests", dependencies: ["ItemIndex"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "CatalogIndex", "CausalLM", "ItemIndex", "RecData", "Support", "Tokenizers"], exclude: ["Fixtures"]),
        .testTarget(name: "CausalLMTests", dependencies: ["CausalLM", "Kernels", "ModelFormats", "Tokenizers"], exclude: ["Fixtures"]),
        .testTarget(name: "DecodingTests", dependencies: ["Decoding", "CatalogIndex", "CausalLM", "ItemIndex", "RecData", "Support"], exclude: ["Fixtures"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "CatalogIndex", "CausalLM", "Decoding", "RecData"]),
        .testTarget(name: "LLMRecCLITests", dependencies: [
            "LLMRecCLI", "CatalogIndex", "CausalLM", "Evaluation", "RecData", "Support", "Tokenizers", "Training",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "CUDABackendTests", dependencies: ["CUDABackend", "CCUDA", "Support"]),
        .testTarget(name: "StudyTests", dependencies: ["Decoding", "Study", "Support", "Training"]),
        .testTarget(
            name: "ServingTests",
            dependencies: [
                "Serving", "APIRequests", "CatalogIndex", "CausalLM", "Decoding", "RecData", "Support",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
