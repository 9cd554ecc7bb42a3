#!/bin/sh
# The peers of bench/ann_peers.py (issue 16's ANN benchmark) in their own venv, never a dependency
# of the product: numpy, hnswlib (built from its sdist with -O3 -march=native: needs a C++
# compiler and the Python headers) and faiss-cpu (a wheel). Works on a bare Debian machine as
# root; the venv is $ANN_VENV (default /tmp/annvenv). Versions pinned to those measured in
# bench/README.md ("Approximate search beside hnswlib and faiss").
set -eu
VENV=${ANN_VENV:-/tmp/annvenv}

missing=""
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
command -v g++ >/dev/null 2>&1 || missing="$missing g++"
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing="$missing python3-venv"
[ -n "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)" ] &&
    [ -f "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ] ||
    missing="$missing python3-dev"
command -v lscpu >/dev/null 2>&1 || missing="$missing util-linux"
if [ -n "$missing" ]; then
    echo "ann_setup: installing Debian packages:$missing" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet "numpy==2.4.6" "hnswlib==0.8.0" "faiss-cpu==1.15.1"
"$VENV/bin/python" -c 'import numpy, hnswlib, faiss; print("ann_setup:", "numpy", numpy.__version__, "hnswlib 0.8.0", "faiss-cpu", faiss.__version__)'
echo "run: $VENV/bin/python bench/ann_peers.py [--strata .build/release/strata-cli]"
