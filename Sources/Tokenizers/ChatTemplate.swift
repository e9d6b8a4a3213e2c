// The ChatML prompt of SmolLM2-Instruct and Qwen2 for a single user message:
//   <|im_start|>system\n{default system prompt}<|im_end|>\n<|im_start|>user\n{message}<|im_end|>\n<|im_start|>assistant\n
// The default system prompt is the one the model's Jinja template writes when the
// conversation has none; it is read from the template's text. Not a Jinja engine.

public enum ChatTemplateError: Error, CustomStringConvertible {
    case notChatML(String)
    public var description: String {
        switch self {
        case .notChatML(let start):
            "the model's chat template is not ChatML (<|im_start|>…<|im_end|>); only ChatML is supported. It begins: \(start)"
        }
    }
}

public struct ChatTemplate: Sendable {
    /// The system message written when none is given, or nil when the template writes none.
    public let defaultSystem: String?

    public init(template: String) throws {
        guard template.contains("<|im_start|>"), template.contains("<|im_end|>") else {
            throw ChatTemplateError.notChatML(String(template.prefix(80)))
        }
        // The literal '<|im_start|>system\n…<|im_end|>' in the template, as Jinja writes it
        // ("\n" inside a Jinja string literal is a newline).
        let marker = "<|im_start|>system\\n"
        let rawMarker = "<|im_start|>system\n"
        if let r = template.range(of: marker) ?? template.range(of: rawMarker),
            let end = template.range(of: "<|im_end|>", range: r.upperBound..<template.endIndex)
        {
            defaultSystem = String(template[r.upperBound..<end.lowerBound]).replacingOccurrences(of: "\\n", with: "\n")
        } else {
            defaultSystem = nil
        }
    }

    /// The prompt for one user message, ending where the assistant's answer begins.
    public func render(user: String, system: String? = nil) -> String {
        var out = ""
        if let s = system ?? defaultSystem { out += "<|im_start|>system\n\(s)<|im_end|>\n" }
        out += "<|im_start|>user\n\(user)<|im_end|>\n<|im_start|>assistant\n"
        return out
    }
}
