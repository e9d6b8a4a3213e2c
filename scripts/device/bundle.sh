#!/usr/bin/env bash
# Packs the release binary, stripped, with the shared libraries it needs beyond what every Linux
# has (glibc, libstdc++, libgcc_s) into one archive to carry to a GPU machine that has no Swift
# toolchain: .device/llmrec-bundle.tar.xz (ignored by git). scripts/device/check.sh unpacks it.
#   scripts/device/bundle.sh            # builds release first (swift build -c release)
#   BUILD=.build-x scripts/device/bundle.sh  # uses another build folder (--scratch-path)
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${BUILD:-.build}"
swift build -c release --product llmrec --scratch-path "$build"
binary="$build/release/llmrec"

stage=.device/bundle
rm -rf "$stage"
mkdir -p "$stage/lib"
cp "$binary" "$stage/llmrec"
strip "$stage/llmrec"
# Every library ldd resolves, except the C and C++ runtimes the target has its own (newer) copies of.
ldd "$binary" | awk '/=> \// { print $3 }' | while read -r lib; do
    case "$(basename "$lib")" in
        libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|ld-linux*|libgcc_s.so.*|libstdc++.so.*) continue ;;
    esac
    cp -L "$lib" "$stage/lib/"
done
git rev-parse HEAD > "$stage/COMMIT" 2>/dev/null || true
tar -C "$stage" -cJf .device/llmrec-bundle.tar.xz .
rm -rf "$stage"
ls -l .device/llmrec-bundle.tar.xz | awk '{ printf "bundle: .device/llmrec-bundle.tar.xz (%.1f MB)\n", $5 / 1e6 }'
