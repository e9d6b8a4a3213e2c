// The BIGRec/D3-style instruction prompt and the response the model learns to write,
// byte for byte as docs/DESIGN.md gives them (the prompts of BIGRec, arXiv 2308.08434, and D3,
// arXiv 2406.14900). The item nouns and verb are configurable
// ("movies the user has watched", "video games the user has played").

/// The words the prompt uses for items.
public struct PromptVocabulary: Sendable, Codable, Equatable {
    /// Singular noun, e.g. "movie".
    public var noun: String
    /// Plural noun, e.g. "movies".
    public var plural: String
    /// Past participle after "the user has", e.g. "watched".
    public var verb: String

    public init(noun: String, plural: String? = nil, verb: String) {
        self.noun = noun
        self.plural = plural ?? noun + "s"
        self.verb = verb
    }

    public static let movies = PromptVocabulary(noun: "movie", verb: "watched")
    public static let items = PromptVocabulary(noun: "item", verb: "interacted with")
}

public struct PromptTemplate: Sendable, Codable, Equatable {
    public var vocabulary: PromptVocabulary

    public init(vocabulary: PromptVocabulary) { self.vocabulary = vocabulary }

    public static let header =
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        + "Write a response that appropriately completes the request.\n\n"

    /// The prompt for a user whose history (oldest first) has these titles. Ends with one newline.
    public func prompt(history: [String]) -> String {
        let v = vocabulary
        let quoted = history.map { "\"" + $0 + "\"" }.joined(separator: ", ")
        return Self.header
            + "### Instruction:\n"
            + "Given a list of \(v.plural) the user has \(v.verb) before, please recommend a new \(v.noun) that the user likes to the user.\n\n"
            + "### Input:\n"
            + "The user has \(v.verb) the following \(v.plural) before: \(quoted)\n\n"
            + "### Response:\n"
    }

    /// The response text for a target title; the tokenizer appends the EOS token after it.
    public func response(title: String) -> String { "\"" + title + "\"" }

    /// The line that opens a user's sequence in sequence training and its prompts: no
    /// instruction, no chat template; the items follow, each as its response tokens (EOS included).
    public var sequenceHeader: String {
        let v = vocabulary
        return v.plural.prefix(1).uppercased() + v.plural.dropFirst() + " the user has \(v.verb), oldest first:\n"
    }
}

/// How a run turns a user's history into training rows and prompts.
public enum SampleFormat: String, Sendable, Codable, CaseIterable {
    /// One target per row: the instruction prompt with up to `history` titles, then the target's
    /// response (BIGRec/D3; docs/DESIGN.md, "Samples and prompts").
    case windows
    /// A user's items in time order, each as its response tokens, a loss on every training
    /// target: the sequence header, then the items (docs/DESIGN.md, "Sequence training").
    case sequences
}
