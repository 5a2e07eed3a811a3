#!/usr/bin/env bash
# The documentation site, offline, from the notebooks: every notebook of nbs/ and nbs/tutorials/ (prose, code, kept outputs,
# figures), an API page per module, a search box that works from the local files. Writes _docs/ (open _docs/index.html).
# Needs the docs extra (bash setup.sh installs it). The browser check is tests/test_docs.py (part of bash test.sh).
set -euo pipefail
cd "$(dirname "$0")"
.venv/bin/python tools/docs.py "$@"
