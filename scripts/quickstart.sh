#!/usr/bin/env bash
# The main job on the embedded default, from nothing: fetch the assets, build in release
# mode, prepare MovieLens-100K (with the model's tokenizer measuring the responses), fine-tune
# SmolLM2 briefly with the IGD loss, and evaluate it against the zero-shot model and the
# popularity baseline on the same test users, in one table. About 10 minutes on 2 cores.
# QUICKSTART_STEPS and QUICKSTART_USERS make it longer (closer to the papers) or shorter.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

scripts/ensure-openblas.sh quickstart
scripts/fetch-assets.sh
swift build -c release --product llmrec
llmrec=.build/release/llmrec
steps="${QUICKSTART_STEPS:-40}" users="${QUICKSTART_USERS:-100}"
"$llmrec" data prepare --dataset ml-100k --out data/ml-100k --force --model smollm2
"$llmrec" data show data/ml-100k --split test --count 1
"$llmrec" model info --model smollm2
# A fresh run each time (runs/quickstart-igd is this script's own output).
rm -rf runs/quickstart-igd
"$llmrec" train --model smollm2 --data data/ml-100k --out runs/quickstart-igd --loss igd --beta 0.1 \
    --max-steps "$steps" --batch 8 --lr 1e-4 --warmup 4 --eval-every "$((steps / 2))" --valid-samples 64
"$llmrec" eval --data data/ml-100k --model smollm2 --model runs/quickstart-igd --baseline popularity \
    --max-users "$users" --k 1,5,10 --beams 10 --batch 16
