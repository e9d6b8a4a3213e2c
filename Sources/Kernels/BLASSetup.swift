// Old OpenBLAS builds misdetect new CPUs (a Zen 4 or Sapphire Rapids core reported as
// "Prescott" runs 5–10× slower). OPENBLAS_CORETYPE only takes effect before the library
// loads, so when the detected core is older than what the CPU supports, the process sets it
// and starts itself again, once.
import COpenBLAS
import Foundation

public enum BLASSetup {
    /// The core OpenBLAS chose, e.g. "Haswell", "SkylakeX", "Cooperlake", "Zen".
    public static var detectedCore: String { String(cString: openblas_get_corename()) }

    /// Cores without AVX2 kernels, which a modern CPU should never get.
    static let preAVX2Cores: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine", "northwood",
        "banias", "opteron", "opteron_sse3", "barcelona", "bobcat", "sandybridge", "bulldozer", "piledriver", "unknown",
    ]

    /// The core type to ask for, or nil when the detected one is fine.
    public static func recommendedCore(detected: String, cpuFlags: Set<String>) -> String? {
        guard preAVX2Cores.contains(detected.lowercased()), cpuFlags.contains("avx2"), cpuFlags.contains("fma") else { return nil }
        return cpuFlags.contains("avx512f") ? "SkylakeX" : "Haswell"
    }

    /// The CPU's feature flags (Linux /proc/cpuinfo); empty elsewhere.
    public static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return [] }
        return Set(line.split(separator: ":").last?.split(separator: " ").map(String.init) ?? [])
    }

    /// Restarts the process with OPENBLAS_CORETYPE set when OpenBLAS misdetected the CPU.
    /// Does nothing when the user set OPENBLAS_CORETYPE, or after the restart.
    public static func ensureCoreType() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["LLMREC_BLAS_RESTARTED"] == nil,
            let core = recommendedCore(detected: detectedCore, cpuFlags: cpuFlags())
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("LLMREC_BLAS_RESTARTED", "1", 1)
        let args = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        // execv returned: keep going with the slow core rather than fail.
    }
}
