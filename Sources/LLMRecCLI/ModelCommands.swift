// `llmrec tokenize`, `logits`, `generate` and `model info`: looking at a model and its
// tokenizer directly, before any recommending.
import ArgumentParser
import CausalLM
import Foundation
import Kernels
import ModelFormats
import Support
import Tokenizers

/// The prompt as token ids: optionally wrapped in the model's chat template, BOS first where the model wants it.
func encodePrompt(_ text: String, chat: Bool, tokenizer: BPETokenizer) throws -> [Int32] {
    var prompt = text
    if chat {
        guard let template = tokenizer.chatTemplate else {
            throw ValidationError("--chat: the model has no chat template; leave --chat out to use the prompt as it is.")
        }
        prompt = try ChatTemplate(template: template).render(user: text)
    }
    var ids = tokenizer.encode(prompt)
    if tokenizer.addsBOS, let bos = tokenizer.bosTokenID { ids.insert(bos, at: 0) }
    guard !ids.isEmpty else { throw ValidationError("The prompt is empty: give some text with --prompt.") }
    return ids
}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of text, one line per input.",
        discussion: """
            Reads TEXT arguments, or lines from standard input when none is given. Added tokens such as \
            <|im_start|> are recognised in the text; no BOS or EOS is added.

            Example:
              llmrec tokenize --model smollm2 "Toy Story (1995)"
              cut -f1 titles.tsv | llmrec tokenize --json
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Flag(help: "Print one JSON array of ids per input line.")
    var json = false

    @Flag(help: "Print each id with its vocabulary entry (id=piece) instead of ids alone.")
    var pieces = false

    @Argument(help: "Texts to tokenize; standard input lines when none.")
    var text: [String] = []

    @OptionGroup var global: GlobalOptions

    func run() throws {
        _ = global.bootstrapLogging()
        let tokenizer = try modelOptions.source().loadTokenizer()
        func emit(_ line: String) {
            let ids = tokenizer.encode(line)
            if json {
                print("[" + ids.map(String.init).joined(separator: ",") + "]")
            } else if pieces {
                print(ids.map { "\($0)=\(tokenizer.token($0) ?? "?")" }.joined(separator: " "))
            } else {
                print(ids.map(String.init).joined(separator: " "))
            }
        }
        if text.isEmpty {
            while let line = readLine(strippingNewline: true) { emit(line) }
        } else {
            text.forEach(emit)
        }
    }
}

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Print the most likely next tokens after a prompt, with logits and log-probabilities.",
        discussion: """
            Example:
              llmrec logits --model smollm2 --prompt "The capital of France is" --top 5
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var promptOptions: PromptOptions
    @OptionGroup var precisionOptions: PrecisionOptions

    @Option(help: "How many tokens to show.")
    var top: Int = 20

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if top < 1 { throw ValidationError("--top must be at least 1, got \(top).") }
    }

    func run() throws {
        let log = global.prepareForCompute()
        let (model, tokenizer) = try modelOptions.source().load()
        let ids = try promptOptions.encode(tokenizer)
        // fp32 runs the reference path (sgemm, no packing), as the parity fixtures were made.
        let packed = precisionOptions.precision == .fp32 ? nil : precisionOptions.packed(model, log: log)
        let logits = try model.forward([ids], cache: KVCache(config: model.config, slots: 1, capacity: ids.count), packed: packed)
        let lse = logits.withUnsafeBufferPointer { logSumExp($0.baseAddress!, $0.count) }
        let best = topIndices(logits, min(top, logits.count))
        if json {
            let rows = best.map { id in
                "{\"id\":\(id),\"token\":\(jsonString(tokenizer.decode([Int32(id)]))),\"logit\":\(logits[id]),\"logprob\":\(logits[id] - lse)}"
            }
            print("{\"prompt_tokens\":\(ids.count),\"top\":[" + rows.joined(separator: ",") + "]}")
        } else {
            print("prompt: \(ids.count) tokens")
            print("rank  id      logit      logprob   token")
            for (rank, id) in best.enumerated() {
                print(String(format: "%4d  %-6d  %9.4f  %9.4f  ", rank + 1, id, logits[id], logits[id] - lse)
                      + tokenizer.decode([Int32(id)]).debugDescription)
            }
        }
    }
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt greedily, printing the text as it comes.",
        discussion: """
            Stops at the end-of-sequence token or after --max-tokens.

            Example:
              llmrec generate --model smollm2 --chat --prompt "Recommend a movie for a rainy day."
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var promptOptions: PromptOptions
    @OptionGroup var precisionOptions: PrecisionOptions

    @Option(help: "Most new tokens to generate.")
    var maxTokens: Int = 64

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1, got \(maxTokens).") }
    }

    func run() throws {
        let log = global.prepareForCompute()
        let (model, tokenizer) = try modelOptions.source().load()
        // Weights packed for the one-row products of decoding, kept in their GGUF blocks where
        // they can be in fp32 (a token reads every weight once, so fewer bytes is faster); nil in
        // fp32 without AVX-512.
        let packed = precisionOptions.packed(model, log: log)
        let ids = try promptOptions.encode(tokenizer)
        let capacity = min(ids.count + maxTokens, model.config.maxPositions)
        guard ids.count < capacity else {
            throw ValidationError("The prompt has \(ids.count) tokens; the model's context holds \(model.config.maxPositions).")
        }
        let cache = KVCache(config: model.config, slots: 1, capacity: capacity)
        var logits = try model.forward([ids], cache: cache, packed: packed)
        var generated: [Int32] = []
        var shown = ""
        while generated.count < capacity - ids.count {
            let next = Int32(topIndices(logits, 1)[0])
            if next == tokenizer.eosTokenID { break }
            generated.append(next)
            let text = tokenizer.decode(generated, skipSpecialTokens: true)
            // Print only completed characters: a partial UTF-8 sequence decodes to U+FFFD.
            if !text.hasSuffix("\u{FFFD}"), text.count >= shown.count {
                // Unbuffered, so the text appears as it is generated.
                FileHandle.standardOutput.write(Data(String(text.dropFirst(shown.count)).utf8))
                shown = text
            }
            logits = try model.forward([[next]], cache: cache, packed: packed)
        }
        FileHandle.standardOutput.write(Data((String(tokenizer.decode(generated, skipSpecialTokens: true).dropFirst(shown.count)) + "\n").utf8))
    }
}

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Inspect model files.", subcommands: [Info.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a model's architecture, sizes, tensor types, parameter count and tokenizer.",
            discussion: """
                Example:
                  llmrec model info --model smollm2
                """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var global: GlobalOptions

        func run() throws {
            _ = global.bootstrapLogging()
            let source = try modelOptions.source()
            var rows: [(String, String)] = [("file", source.path)]
            let config: ModelConfig
            var types: [String: Int] = [:]
            switch source {
            case .gguf(let path):
                let file = try GGUFFile(path: path)
                config = try ModelConfig(gguf: file)
                for t in file.tensors { types[t.type.name, default: 0] += 1 }
                rows.append(("format", "GGUF v\(file.version), \(file.tensors.count) tensors, \(file.metadata.count) metadata keys"))
                if let name = file.metadata["general.name"]?.stringValue { rows.append(("name", name)) }
            case .huggingFace(let dir):
                config = try ModelConfig(huggingFace: dir)
                let tensors = try Safetensors.readDirectory(dir)
                for t in tensors.values { types[t.dtype.rawValue, default: 0] += 1 }
                rows.append(("format", "Hugging Face directory, \(tensors.count) tensors in \(Set(tensors.values.map(\.file.path)).count) safetensors files"))
            }
            let tokenizer = try source.loadTokenizer()
            rows += [
                ("architecture", config.architecture.rawValue + (config.attentionBias ? " (q/k/v biases)" : "")),
                ("layers", "\(config.layers)"),
                ("hidden", "\(config.hiddenSize) (MLP \(config.intermediateSize))"),
                ("heads", "\(config.heads) query, \(config.kvHeads) key/value, \(config.headDim) wide"),
                ("vocabulary", "\(config.vocabSize)"),
                ("context", "\(config.maxPositions) positions, RoPE θ \(config.ropeTheta)"
                    + (config.ropeScaling.map { " (llama3 scaling ×\($0.factor))" } ?? "")),
                ("output head", config.tieWordEmbeddings ? "tied to the embedding" : "separate"),
                ("parameters", grouped(config.parameterCount) + String(format: " (%.1f MB as float32)", Double(config.parameterCount) * 4 / 1e6)),
                ("tensor types", types.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")),
                ("tokenizer", "byte-level BPE, \(tokenizer.family.rawValue) pre-tokenizer, \(tokenizer.vocabularySize) tokens, EOS \(tokenizer.eosTokenID)"
                    + (tokenizer.chatTemplate != nil ? ", chat template" : "")),
            ]
            print(alignedRows(rows), terminator: "")
        }
    }
}

/// Indices of the `k` largest values, largest first.
func topIndices(_ values: [Float], _ k: Int) -> [Int] {
    var best: [Int] = []
    for i in values.indices {
        if best.count < k || values[i] > values[best[best.count - 1]] {
            let at = best.firstIndex { values[i] > values[$0] } ?? best.count
            best.insert(i, at: at)
            if best.count > k { best.removeLast() }
        }
    }
    return best
}
