#!/usr/bin/env bash
# Stages a study's remaining arms for a GPU machine reached only through the device tool, whose
# calls carry at most 64 MiB each (working tree included) and which has no network: the release
# bundle (scripts/device/bundle.sh), the model and the dataset's raw files go into one payload,
# split into parts that each fit one call beside the working tree. scripts/device/study.sh
# receives the parts there, one call each, made back to back while the machine stays warm, then
# runs the study; scripts/device/study_merge.py brings the finished arms back. docs/study.md,
# "On a GPU", walks through it.
#   scripts/device/study-stage.sh               # ML-1M and SmolLM2, the committed study's inputs
#   SKIP_BUNDLE=1 scripts/device/study-stage.sh  # keep an existing .device/llmrec-bundle.tar.xz
#   RUNS=~/llmrec-runs/ml-1m scripts/device/study-stage.sh  # also SASRec's state from a CPU run there
#   DATASET=ml-100k …                          # another of the embedded datasets
set -euo pipefail
cd "$(dirname "$0")/../.."
home="${LLMREC_HOME:-$HOME/.cache/llmrec}"
dataset="${DATASET:-ml-1m}"
model="$home/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
stage=.device/study
die() { echo "study-stage: $*" >&2; exit 1; }

for f in "$model" "$home/$dataset/$dataset.inter" "$home/$dataset/$dataset.item"; do
    [ -s "$f" ] || die "$f is missing; run scripts/fetch-assets.sh"
done
[ "${SKIP_BUNDLE:-0}" = 1 ] && [ -s .device/llmrec-bundle.tar.xz ] || scripts/device/bundle.sh

# What else travels with every call: tracked files and untracked files git does not ignore.
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }' || true)
limit=$((64 * 1024 * 1024))
margin=$((2 * 1024 * 1024))
part=$((limit - tree - margin - 4096))
[ "$part" -gt $((8 * 1024 * 1024)) ] || die "the working tree ($tree bytes) leaves no room in a 64 MiB call"

rm -rf "$stage"
mkdir -p "$stage/payload/home/smollm2" "$stage/payload/home/$dataset"
cp .device/llmrec-bundle.tar.xz "$stage/payload/"
cp "$model" "$stage/payload/home/smollm2/"
# The interactions compress about 7×; the model (4-bit weights) hardly at all.
xz -T0 -6 -c "$home/$dataset/$dataset.inter" > "$stage/payload/home/$dataset/$dataset.inter.xz"
cp "$home/$dataset/$dataset.item" "$stage/payload/home/$dataset/"
if [ -n "${RUNS:-}" ] && [ -s "$RUNS/sasrec/state.pt" ]; then cp "$RUNS/sasrec/state.pt" "$stage/payload/sasrec-state.pt"; fi
tar -C "$stage/payload" -cf "$stage/payload.tar" .
rm -rf "$stage/payload"
split -b "$part" -d -a 1 "$stage/payload.tar" "$stage/part" || die "more than 10 parts: the working tree is too large"
rm "$stage/payload.tar"
parts=$(ls "$stage"/part? | wc -l)
{
    echo "commit $(git rev-parse HEAD)"
    echo "parts $parts"
    (cd "$stage" && sha256sum part?)
} > "$stage/MANIFEST"
echo "study-stage: $parts parts of at most $((part / 1024 / 1024)) MiB beside a $((tree / 1024 / 1024)) MiB working tree, in $stage"
echo "make these device calls back to back (the machine stays warm about 30 s between calls):"
for ((k = 0; k < parts; k++)); do
    if ((k < parts - 1)); then
        echo "  run  carry [\"$stage/part$k\", \"$stage/MANIFEST\"]  command: scripts/device/study.sh receive $k"
    else
        echo "  run  carry [\"$stage/part$k\", \"$stage/MANIFEST\"]  timeout_s 600  command: scripts/device/study.sh receive $k && scripts/device/study.sh run"
    fi
done
echo "then, while device time is left: scripts/device/study.sh run (no carry, timeout_s 600; it resumes; BUDGET=N for a shorter call)"
echo "and here, with the files of the last call: scripts/device/study_merge.py FILES/study-results.tar.gz --runs RUNS --sasrec-state FILES/sasrec-state.pt"
