#!/usr/bin/env bash
# Runs the committed study's remaining arms on the GPU machine, from the repository root there,
# with the inputs scripts/device/study-stage.sh split into parts here (one device call each):
#   scripts/device/study.sh receive K   keeps the carried .device/study/partK in /tmp (checked
#                                       against .device/study/MANIFEST); the machine must stay
#                                       warm between calls, since a fresh one starts empty
#   scripts/device/study.sh run         assembles the parts once, then, within BUDGET seconds
#                                       from its start (540; give the call a timeout_s of 600):
#                                       SASRec (scripts/study/sasrec.py --device cuda), when its
#                                       results are missing, for at most SASREC_SECONDS (150);
#                                       then `llmrec study run … --device cuda` until 30 s before
#                                       the budget ends, stopped with SIGINT like a kill (every
#                                       result file is whole). Run it again to go on: both resume.
# What comes back in $OUT: study-results.tar.gz (the study directory's plan and results),
# sasrec-state.pt (SASRec's per-epoch state, so a CPU can continue it), study.log.
# ARMS="ce-gpu msl+igd …" keeps the GPU to those arms (and zero-shot, by that name), e.g. away
# from an arm a CPU is training. STUDY names the study directory (docs/study/ml-1m); DEVICE=cpu rehearses the whole path on a
# machine without a GPU (with a small plan: STUDY=a directory holding one).
set -uo pipefail
cd "$(dirname "$0")/../.."
work=/tmp/llmrec-study
OUT="${OUT:-$work/out}"
study_src="${STUDY:-docs/study/ml-1m}"
mkdir -p "$work/parts" "$OUT"
die() { echo "study.sh: $*" >&2; exit 2; }

receive() {
    local k="$1" part=".device/study/part$1"
    [ -s "$part" ] || die "$part was not carried (carry [\"$part\", \".device/study/MANIFEST\"])"
    cp .device/study/MANIFEST "$work/MANIFEST"
    cp "$part" "$work/parts/part$k"
    local want got
    want=$(awk -v p="part$k" '$2 == p { print $1 }' "$work/MANIFEST")
    got=$(sha256sum "$work/parts/part$k" | cut -d' ' -f1)
    [ "$want" = "$got" ] || die "part$k's sha256 is $got, the manifest says ${want:-nothing}"
    echo "study.sh: part$k received ($(stat -c %s "$work/parts/part$k") bytes); have $(ls "$work/parts" | wc -l) of $(awk '$1 == "parts" { print $2 }' "$work/MANIFEST")"
}

assemble() {
    [ -x "$work/bundle/llmrec" ] && return 0
    [ -s "$work/MANIFEST" ] || die "no part received on this machine yet: it is fresh (a machine goes back after ~30 s idle); receive every part again"
    local n k missing=""
    n=$(awk '$1 == "parts" { print $2 }' "$work/MANIFEST")
    for ((k = 0; k < n; k++)); do [ -s "$work/parts/part$k" ] || missing+=" part$k"; done
    [ -z "$missing" ] || die "missing:$missing (this machine has $(ls "$work/parts" | tr '\n' ' ')); receive them first"
    (cd "$work/parts" && grep ' part' "$work/MANIFEST" | sha256sum --quiet -c -) || die "a part differs from the manifest; receive it again"
    rm -rf "$work/payload" "$work/bundle" "$work/home"
    mkdir -p "$work/payload" "$work/bundle"
    for ((k = 0; k < n; k++)); do cat "$work/parts/part$k"; done | tar -C "$work/payload" -xf - || die "the parts do not make a whole payload"
    tar -C "$work/bundle" -xJf "$work/payload/llmrec-bundle.tar.xz" || die "the bundle does not unpack"
    xz -d "$work"/payload/home/*/*.inter.xz || die "the interactions do not unpack"
    mv "$work/payload/home" "$work/home"
    if [ -s "$work/payload/sasrec-state.pt" ]; then mkdir -p "$work/runs/sasrec" && mv "$work/payload/sasrec-state.pt" "$work/runs/sasrec/state.pt"; fi
    rm -rf "$work/payload" "$work/parts"
    echo "study.sh: assembled llmrec $(cat "$work/bundle/COMMIT" 2>/dev/null) and its inputs"
}

run() {
    local started budget=${BUDGET:-540}
    started=$(date +%s)
    left() { echo $(( budget - ($(date +%s) - started) )); }
    assemble
    export LD_LIBRARY_PATH="$work/bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export LLMREC_HOME="$work/home"
    . scripts/device/cuda-env.sh
    local llmrec="$work/bundle/llmrec" study="$work/study" runs="$work/runs" log="$work/study.log" device="${DEVICE:-cuda}"
    # The study directory lives in /tmp: each call re-sends the repository, results made here must survive that.
    if [ ! -d "$study" ]; then
        cp -r "$study_src" "$study" && echo "$study_src" > "$work/STUDY"
    elif [ "$(cat "$work/STUDY")" != "$study_src" ]; then
        die "$study holds $(cat "$work/STUDY"), not $study_src"
    fi
    [ "$device" = cpu ] || nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$log"
    # Prepares the dataset and draws the samples (checked against the committed draw) without training.
    "$llmrec" study run "$study/plan.json" --out "$study" --runs "$runs" --device "$device" --dry-run 2>&1 | tee -a "$log"
    [ "${PIPESTATUS[0]}" = 0 ] || die "the study's dry run failed (above); nothing was run"
    local sasrec=${SASREC_SECONDS:-150}
    (( sasrec < $(left) - 120 )) || sasrec=$(( $(left) - 120 ))
    if [ ! -s "$study/results/sasrec/full-ranking.json" ] && (( sasrec > 0 )); then
        PYTHONUNBUFFERED=1 timeout -k 10 "$sasrec" python3 scripts/study/sasrec.py "$study" --runs "$runs" --device "$device" 2>&1 | tee -a "$log"
    fi
    local only=() arm
    for arm in ${ARMS:-}; do only+=(--arm "$arm"); done
    local seconds=$(( $(left) - 30 ))
    (( seconds > 0 )) || seconds=1
    echo "study.sh: $seconds s for the study" | tee -a "$log"
    timeout -s INT -k 20 "$seconds" "$llmrec" study run "$study/plan.json" --out "$study" --runs "$runs" --device "$device" "${only[@]}" 2>&1 \
        | tr '\r' '\n' | tee -a "$log"
    local status=${PIPESTATUS[0]}
    tar -C "$study" -czf "$OUT/study-results.tar.gz" plan.json results
    [ -s "$runs/sasrec/state.pt" ] && cp "$runs/sasrec/state.pt" "$OUT/sasrec-state.pt"
    cp "$log" "$OUT/study.log"
    echo "study.sh: results in study-results.tar.gz ($(stat -c %s "$OUT/study-results.tar.gz") bytes); bring them in here with scripts/device/study_merge.py"
    # 124: the budget ran out and SIGINT stopped it, as planned; 130: the same, seen by llmrec.
    case "$status" in 0|124|130) ;; *) die "llmrec study run failed with status $status (see study.log)" ;; esac
}

case "${1:-}" in
    receive) [ -n "${2:-}" ] || die "usage: study.sh receive K"; receive "$2" ;;
    run) run ;;
    *) die "usage: study.sh receive K | study.sh run" ;;
esac
