// swift-tools-version:6.1
// libFuzzer targets, one per parser of files and requests, built with the fuzzer and address
// sanitizer by scripts/fuzz.sh (not by the main package's builds):
//   swift build --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// Each target reads one input from libFuzzer and runs it through the parser as llmrec would; a
// crash, a trap, a leak, an out-of-bounds access or an allocation over the limit is a finding.
// Seed corpora (small, from the test fixtures) are in Fuzz/Corpus/<target>.
import PackageDescription

let parsers: [(name: String, module: String)] = [
    ("FuzzGGUF", "ModelFormats"), ("FuzzSafetensors", "ModelFormats"), ("FuzzTokenizerJSON", "Tokenizers"),
    ("FuzzHFConfig", "CausalLM"), ("FuzzMovieLens100K", "RecData"), ("FuzzMovieLens1M", "RecData"), ("FuzzRecBole", "RecData"),
    ("FuzzAmazon2018", "RecData"), ("FuzzAmazon2023", "RecData"), ("FuzzCSV", "RecData"), ("FuzzCheckpointState", "Training"),
    ("FuzzRecommendRequest", "APIRequests"), ("FuzzD3SampleFiles", "RecData"), ("FuzzBIGRecSampleFiles", "RecData"),
]

let package = Package(
    name: "llmrec-fuzz",
    dependencies: [.package(name: "llmrec", path: "..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "LLMRecParsers", package: "llmrec")]),
    ] + parsers.map { parser in
        .executableTarget(name: parser.name, dependencies: ["FuzzSupport", .product(name: "LLMRecParsers", package: "llmrec")])
    }
)
