#!/usr/bin/env bash
# Set up cna_nb in ./.venv: torch first (the local CPU build 2.13.0 unless you installed your own), then cna_nb with its
# dev tools and the docs site's (bash docs.sh), then the embedded model cache (~1 min the first time). Re-running is cheap.
#   GPU users: create .venv, install the torch build for your CUDA into it, then run this script with CNA_KEEP_TORCH=1.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v 'is ignored' || true
if [ "${CNA_KEEP_TORCH:-0}" = 1 ] && .venv/bin/python -c 'import torch' 2>/dev/null; then
  echo "keeping installed torch $(.venv/bin/python -c 'import torch; print(torch.__version__)')"
else
  .venv/bin/python -m pip install -q "torch==2.13.0" 2>&1 | grep -v 'is ignored' || true
fi
# setuptools prints an informational note ("Editable installation. Please be careful with folders in your working directory …")
# for every editable install of a flat layout like nbdev's; it is not a packaging problem, so it is dropped here, nothing else.
# pip's own exit status is kept (pipefail): `grep -v` alone may exit 1 when nothing is left to print, so it is guarded.
.venv/bin/python -m pip install -q -e ".[dev,docs]" 2>&1 | { grep -v 'is ignored' || true; } \
  | sed '/BuildBackendWarning: Editable installation\./,+9d'     # the note is 10 lines: a bounded range, never the rest
.venv/bin/python -c 'import cna_nb, torch, transformers, nbdev; print("cna_nb", cna_nb.__version__, "| torch", torch.__version__, "| transformers", transformers.__version__, "| nbdev", nbdev.__version__)'
HF_HUB_OFFLINE=1 .venv/bin/cna prepare
