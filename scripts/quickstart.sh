#!/usr/bin/env bash
# The main job on the embedded default, from nothing: fetch the assets, build in release
# mode, prepare MovieLens-100K (with the model's tokenizer measuring the responses) and print
# its summary, one test sample, and the model's description.
# (Training and evaluation join this script as those stages land.)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

if ! dpkg -s libopenblas-dev >/dev/null 2>&1 && [ ! -e /usr/include/cblas.h ] && [ ! -e /usr/include/x86_64-linux-gnu/cblas.h ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "quickstart: installing OpenBLAS (libopenblas-dev)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev pkg-config >/dev/null
    else
        echo "quickstart: OpenBLAS is missing; install it first: sudo apt-get install libopenblas-dev pkg-config" >&2
        exit 1
    fi
fi
scripts/fetch-assets.sh
swift build -c release --product llmrec
llmrec=.build/release/llmrec
"$llmrec" data prepare --dataset ml-100k --out data/ml-100k --force --model smollm2
"$llmrec" data show data/ml-100k --split test --count 1
"$llmrec" model info --model smollm2
