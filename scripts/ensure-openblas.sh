#!/usr/bin/env bash
# OpenBLAS (Debian's libopenblas-dev) is what llmrec's matrix products link against: install it
# when it is missing and we may (root with apt-get), otherwise say how. Used by the scripts that
# build llmrec on a fresh machine (quickstart, a study sitting).
set -euo pipefail
who=${1:-llmrec}
if ! dpkg -s libopenblas-dev >/dev/null 2>&1 && [ ! -e /usr/include/cblas.h ] && [ ! -e /usr/include/x86_64-linux-gnu/cblas.h ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "$who: installing OpenBLAS (libopenblas-dev)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev pkg-config >/dev/null
    else
        echo "$who: OpenBLAS is missing; install it first: sudo apt-get install libopenblas-dev pkg-config" >&2
        exit 1
    fi
fi
