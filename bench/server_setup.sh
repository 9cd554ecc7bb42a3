#!/bin/sh
# The peer of bench/server_peers.py (issue 17's server benchmark) in its own venv, never a
# dependency of the product: chromadb (its wheel carries `chroma run`, Chroma's own server) and
# numpy; cffi for strata.Engine, the in-process side of the overhead figure. Works on a bare
# Debian machine as root; the venv is $SERVER_VENV (default /tmp/servervenv), outside the repo.
# Versions pinned to those measured in bench/README.md ("Server beside Chroma").
set -eu
VENV=${SERVER_VENV:-/tmp/servervenv}

missing=""
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing="$missing python3-venv"
command -v lscpu >/dev/null 2>&1 || missing="$missing util-linux"
command -v taskset >/dev/null 2>&1 || missing="$missing util-linux"
if [ -n "$missing" ]; then
    echo "server_setup: installing Debian packages:$missing" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet "numpy==2.4.6" "cffi" "chromadb==1.5.9"
"$VENV/bin/python" -c 'import numpy, chromadb; print("server_setup:", "numpy", numpy.__version__, "chromadb", chromadb.__version__)'
[ -x "$VENV/bin/chroma" ] || { echo "server_setup: $VENV/bin/chroma is missing" >&2; exit 1; }
echo "run: $VENV/bin/python bench/server_peers.py [--strata .build/release/strata-cli] [--n 100000]"
