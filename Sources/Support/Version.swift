// The version of llmrec, written into every output so results can be traced to a build.
public enum LLMRecVersion {
    public static let current = "0.1.0"
}
