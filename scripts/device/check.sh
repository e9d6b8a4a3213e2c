#!/usr/bin/env bash
# The one command a GPU window runs, from the repository root on the device machine, with the
# bundle carried (device tool: run, carry [".device"]; make it here first: scripts/device/bundle.sh):
#   scripts/device/check.sh
# It unpacks the bundle, points llmrec at the CUDA libraries PyTorch brought, and runs, each step
# logged in full (into $OUT/logs.tar.gz: the device tool brings back at most 8 files):
#   1. llmrec cuda info                        the driver, NVRTC, cuBLAS and the GPU found
#   2. llmrec cuda check                       every kernel against the CPU's, awkward sizes
#   3. make_models.py + llmrec cuda logits     random tiny Llama, tiny Qwen2 and a SmolLM2-135M-shaped
#      + logits_parity.py                      model: logits against PyTorch fp32 on the same card
#                                              (fp32 within 1e-4; bf16 within 1.5x autocast's deviation)
#   4. llmrec cuda gradients                   one training step's gradients of the tiny Llama and Qwen2,
#                                              every weight and LoRA adapters on the frozen base, against
#                                              PyTorch autograd and PEFT (the committed fixtures of
#                                              Tests/CausalLMTests), fp32 within 1e-3, bf16 within 3e-2
#   5. llmrec cuda bench-train                 full fine-tuning of the 135M-shaped model, batch 32 × 128,
#      + bench_train_torch.py                  bf16 (and fp32), against PyTorch eager + autocast + SDPA;
#                                              in bf16 each side's kernels by GPU time (--profile)
#   6. llmrec cuda beams                       10-beam constrained decoding over a generated 4,000-title
#      + bench_decode_torch.py                 catalog: the same items as the CPU's search (tiny Llama and
#                                              the 135M-shaped model), time per user and users/s, against
#                                              transformers' generate with prefix_allowed_tokens_fn
# and prints a short table last. QUICK=1 skips the 135M-shaped model; BIG=1 adds a
# Qwen2.5-1.5B-shaped one (logits and the training step time beside PyTorch's); each step stops
# after STEP_TIMEOUT seconds (300), and steps that would start past DEADLINE seconds (540) are skipped.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/llmrec-device-out}"
mkdir -p "$OUT"
work=/tmp/llmrec-device
rm -rf "$work"
mkdir -p "$work/home" "$work/models" "$work/logits" "$work/logs"
logs="$work/logs"
summary="$OUT/summary.txt"
: > "$summary"
started=$(date +%s)

# step NAME COMMAND...: runs it with its output in logs/NAME.log, one line in the summary (and on
# stdout as it goes). The logs are re-packed after every step, so that a window that ends early
# still brings back everything run so far. Past DEADLINE seconds (default 540) from the start, the
# remaining steps are skipped, so that the table is still written inside the device tool's limit.
step() {
    local name="$1"; shift
    local t0=$(date +%s)
    local line
    if (( t0 - started > ${DEADLINE:-540} )); then
        line=$(printf '%-28s %-6s %4ss  %s' "$name" skipped 0 "past the ${DEADLINE:-540} s deadline")
        echo "$line" | tee -a "$summary"
        return 1
    fi
    timeout "${STEP_TIMEOUT:-300}" "$@" > "$logs/$name.log" 2>&1
    local rc=$?
    line=$(printf '%-28s %-6s %4ss  %s' "$name" "$([ $rc = 0 ] && echo ok || echo FAILED)" "$(( $(date +%s) - t0 ))" "$(tail -n 1 "$logs/$name.log" | cut -c1-110)")
    echo "$line" | tee -a "$summary"
    tar -C "$work" -czf "$OUT/logs.tar.gz" logs
    return $rc
}

[ -f .device/llmrec-bundle.tar.xz ] || { echo "no .device/llmrec-bundle.tar.xz: run scripts/device/bundle.sh here and carry .device"; exit 2; }
tar -C "$work" -xJf .device/llmrec-bundle.tar.xz
export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LLMREC_HOME="$work/home"
. scripts/device/cuda-env.sh
llmrec="$work/llmrec"
echo "bundle $(cat "$work/COMMIT" 2>/dev/null), LLMREC_CUDA_PATH=$LLMREC_CUDA_PATH" | tee "$OUT/environment.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >> "$OUT/environment.txt" 2>&1
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)" >> "$OUT/environment.txt" 2>&1

step cuda-info "$llmrec" cuda info
step cuda-check "$llmrec" cuda check
models_args=("$work/models")
[ "${QUICK:-0}" = 1 ] && models_args+=(--quick)
[ "${BIG:-0}" = 1 ] && models_args+=(--big)
if step make-models python3 scripts/device/make_models.py "${models_args[@]}"; then
    for dir in "$work"/models/*/; do
        name=$(basename "$dir")
        tokens=$(python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1])))))" "$dir/tokens.json")
        for precision in fp32 bf16; do
            step "logits-$name-$precision" "$llmrec" cuda logits --model "$dir" --tokens "$tokens" --all-rows --precision "$precision" --out "$work/logits/$name-$precision"
            step "parity-$name-$precision" python3 scripts/device/logits_parity.py "$dir" "$work/logits/$name-$precision" "$precision"
        done
    done
fi

fixtures=Tests/CausalLMTests/Fixtures
for name in tiny_llama tiny_qwen2; do
    model="$fixtures/${name/_/-}"
    for precision in fp32 bf16; do
        step "gradients-$name-$precision" "$llmrec" cuda gradients --model "$model" --fixture "$fixtures/${name}_grads.json" --precision "$precision"
        step "gradients-$name-lora-$precision" "$llmrec" cuda gradients --model "$model" --adapter "$model-lora" \
            --fixture "$fixtures/${name}_lora_grads.json" --precision "$precision"
    done
done

shape="$work/models/smollm2-shape"
if [ -d "$shape" ]; then
    # bf16 also prints where each side's time goes (one more step, profiled, after the timed ones).
    for precision in bf16 fp32; do
        profile=(); [ "$precision" = bf16 ] && profile=(--profile)
        step "bench-train-llmrec-$precision" "$llmrec" cuda bench-train --model "$shape" --precision "$precision" --batch 32 --tokens 128 "${profile[@]}"
        step "bench-train-torch-$precision" python3 scripts/device/bench_train_torch.py "$shape" --precision "$precision" --batch 32 --tokens 128 "${profile[@]}"
    done
fi
big="$work/models/qwen1.5b-shape"
if [ -d "$big" ]; then
    step bench-train-llmrec-1.5b-bf16 "$llmrec" cuda bench-train --model "$big" --precision bf16 --batch 8 --tokens 256 --steps 5
    step bench-train-torch-1.5b-bf16 python3 scripts/device/bench_train_torch.py "$big" --precision bf16 --batch 8 --tokens 256 --steps 5
fi

step beams-tiny-llama "$llmrec" cuda beams --model "$fixtures/tiny-llama" --titles 500 --users 6
if [ -d "$shape" ]; then
    step beams-smollm2-shape "$llmrec" cuda beams --model "$shape" --titles 4000 --users 8 --catalog-out "$work/catalog.json"
    step bench-decode-transformers python3 scripts/device/bench_decode_torch.py "$shape" "$work/catalog.json"
fi

tar -C "$work" -czf "$OUT/logs.tar.gz" logs
echo
echo "== llmrec on $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null), $(( $(date +%s) - started )) s"
cat "$summary"
