#!/bin/sh
# Debian packages the training pipeline needs (run once, as root).
#   python3-torch python3-numpy : training (Debian's torch 1.13, CPU)
#   wordnet-base                : the WordNet 3.0 database, the only training data
#   libopenblas0-pthread        : a fast BLAS. Debian's torch is built against the generic
#                                 libblas.so.3; with the reference BLAS a 1024x1024x256 matmul
#                                 takes ~0.3 s. build.sh puts OpenBLAS first on
#                                 LD_LIBRARY_PATH for its own processes only.
set -e
apt-get update -qq
apt-get install -y -qq python3-torch python3-numpy wordnet-base libopenblas0-pthread
