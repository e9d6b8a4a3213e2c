#!/usr/bin/env bash
# Hand-off latency of parallel loops: DispatchQueue.concurrentPerform against llmrec's WorkerPool
# (Sources/Kernels/WorkerPool.swift, compiled with scripts/bench/handoff.swift; its pause hint
# comes from C in the package, here a no-op). Needs two cores to mean anything.
#   usage: scripts/bench/handoff.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed -e '/^import CPanelKernels$/d' -e 's/llmrec_cpu_relax()/benchRelax()/' Sources/Kernels/WorkerPool.swift > "$work/WorkerPool.swift"
cp scripts/bench/handoff.swift "$work/main.swift"
swiftc -O "$work/WorkerPool.swift" "$work/main.swift" -o "$work/handoff"
echo "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
"$work/handoff"
