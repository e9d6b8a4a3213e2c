// `llmrec assets`: where the embedded default model and datasets are, and whether they are fetched.
import ArgumentParser
import Support

struct AssetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assets",
        abstract: "List the embedded default assets, their paths and whether they are fetched.",
        discussion: """
            The assets live in $LLMREC_HOME (default ~/.cache/llmrec). Fetch them once with \
            scripts/fetch-assets.sh; commands accept their short names (--model smollm2, --dataset ml-1m).
            """
    )

    func run() throws {
        print("cache: \(Assets.home.path)")
        let width = Assets.all.map(\.alias.count).max() ?? 0
        for entry in Assets.all {
            let state = entry.isPresent ? "ok     " : "missing"
            print("\(entry.alias.padding(toLength: width, withPad: " ", startingAt: 0))  \(state)  \(entry.url.path)")
            print("\(String(repeating: " ", count: width))           \(entry.summary)")
        }
        if Assets.all.contains(where: { !$0.isPresent }) {
            print("fetch the missing ones with: scripts/fetch-assets.sh")
        }
    }
}
