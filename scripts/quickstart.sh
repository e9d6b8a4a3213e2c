#!/usr/bin/env bash
# The main job on the embedded default, from nothing: fetch the assets, build in release
# mode, prepare MovieLens-100K and print its summary and one test sample.
# (Training and evaluation join this script as those stages land.)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
scripts/fetch-assets.sh
swift build -c release --product llmrec
llmrec=.build/release/llmrec
"$llmrec" data prepare --dataset ml-100k --out data/ml-100k --force
"$llmrec" data show data/ml-100k --split test --count 1
