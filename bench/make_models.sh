#!/bin/sh
# Builds the benchmark models (random weights, exact all-MiniLM-L6-v2 shape) with bench/make_model.py.
#   bench/make_models.sh [OUT]      default OUT: /tmp/peer-model (the folder the peer runner reads too)
# Needs Debian's python3-torch, python3-numpy and python3-onnx: installed here when run as root,
# otherwise the command to install them is printed.
set -eu
OUT="${1:-/tmp/peer-model}"
HERE="$(cd "$(dirname "$0")" && pwd)"
PY=/usr/bin/python3

if [ -f "$OUT/embed/model.safetensors" ] && [ -f "$OUT/rerank/model.safetensors" ]; then
  echo "make_models.sh: $OUT already holds embed/ and rerank/" >&2
  # W6's SparseEncoder is derived from embed/ (no Python needed)
  exec node "$HERE/make_splade_model.mjs" "$OUT" >&2
fi

if ! "$PY" -c 'import torch, numpy, onnx' 2>/dev/null; then
  CMD="apt-get update && apt-get install -y python3-torch python3-numpy python3-onnx"
  if [ "$(id -u)" = 0 ]; then
    echo "make_models.sh: installing Debian's python3-torch python3-numpy python3-onnx" >&2
    apt-get update >&2 && apt-get install -y python3-torch python3-numpy python3-onnx >&2
  else
    echo "make_models.sh: $PY lacks torch/numpy/onnx; as root run:" >&2
    echo "  $CMD" >&2
    echo "then run again (or: $PY $HERE/make_model.py $OUT)" >&2
    exit 1
  fi
fi

echo "make_models.sh: writing $OUT (about 10-30 s, 460 MB)" >&2
"$PY" "$HERE/make_model.py" "$OUT" >&2
node "$HERE/make_splade_model.mjs" "$OUT" >&2
