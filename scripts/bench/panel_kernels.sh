#!/usr/bin/env bash
# The products of one SmolLM2-135M decoding pass (30 layers and the output head) for several row
# counts: OpenBLAS sgemm, our Float32 panels, our GGUF block panels and bf16 panels (AVX512-BF16, AMX where present), on two threads, best of 5
# (scripts/bench/panel_kernels.c). Needs cc and libopenblas-dev, and a CPU with AVX-512.
#   usage: scripts/bench/panel_kernels.sh [rows…=10 29 150]
set -euo pipefail
cd "$(dirname "$0")/../.."
src=Sources/CPanelKernels
bin="$(mktemp -d)/panel_kernels"
trap 'rm -rf "$(dirname "$bin")"' EXIT
cc -O3 -I"$src/include" -I"$src" scripts/bench/panel_kernels.c "$src/panel_matmul.c" "$src/block_panels.c" "$src/bf16_panels.c" \
    -o "$bin" -lopenblas -lpthread
[ $# -gt 0 ] || set -- 10 29 150
lscpu | sed -n 's/^Model name: *//p'
"$bin" "$@"
