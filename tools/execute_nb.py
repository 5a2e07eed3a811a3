"""Execute a notebook in place, keeping its outputs (what the committed tutorials hold), `#| slow` cells included.

    .venv/bin/python tools/execute_nb.py nbs/tutorials/paper_scale.ipynb

Runs in the notebook's folder like Jupyter; stops at the first error (the notebook is then not written). Afterwards run
`nbdev_clean` and `tools/strip_widgets.py` (CONTRIBUTING.md, "The notebooks are the source").
"""
import os, sys, time
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

def main(path):
    path = Path(path).resolve(); nb = read_nb(path)
    os.chdir(path.parent); t0 = time.time()
    for c in nb.cells:                        # execnb keeps the old outputs of a cell that now prints nothing: clear them first
        if c.cell_type == 'code': c.outputs = []
    sh = CaptureShell(path, mpl_format='png')   # not execnb's default 'retina' (2× pixels): CONTRIBUTING.md: small PNGs, dpi ≤ 100
    sh.run_all(nb, exc_stop=True)
    write_nb(nb, path); print(f'{path.name}: executed in {time.time() - t0:.0f} s')

if __name__ == '__main__':
    if len(sys.argv) != 2: raise SystemExit('usage: tools/execute_nb.py NOTEBOOK.ipynb')
    main(sys.argv[1])
