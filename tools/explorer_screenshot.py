"""Screenshots of the explorer running in JupyterLab (nbs/images/explorer_busy.png, explorer_done.png): starts a JupyterLab server on a
scratch notebook, runs it in headless Chromium, sets the prompt and m = 2, presses Generate, and captures the busy state and the result.
Not part of the tests. Needs `pip install playwright` and a Chromium (`apt-get install chromium`; path via $CHROMIUM).

    .venv/bin/python tools/explorer_screenshot.py
"""
import os, subprocess, sys, tempfile, time
from pathlib import Path
import nbformat
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CODE = """from cna_nb.all import *
model, tok = load_model()
harmful, benign = load_discovery()
refusal = find_circuit(model, tok, harmful, benign, progress=False)
Explorer(model, tok, {'refusal 0.1%': refusal}, rc=residual_contrast(model, tok, harmful, benign, progress=False), max_new_tokens=40)"""

def main():
    d = tempfile.mkdtemp(prefix='cna_lab_')
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CODE)])
    nb.metadata = {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}}
    nbformat.write(nb, Path(d)/'explorer_demo.ipynb')
    lab = subprocess.Popen([str(Path(sys.executable).parent/'jupyter'), 'lab', '--no-browser', '--port', '8899', '--IdentityProvider.token=cna',
                            f'--ServerApp.root_dir={d}', '--allow-root'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    try:
        time.sleep(8)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=os.environ.get('CHROMIUM', '/usr/bin/chromium'), args=['--no-sandbox'])
            page = b.new_page(viewport={'width': 1300, 'height': 900})
            page.goto('http://127.0.0.1:8899/lab/tree/explorer_demo.ipynb?token=cna')
            page.wait_for_selector('.jp-Notebook', timeout=60000); time.sleep(6)
            page.click('.jp-Cell .jp-InputArea-editor'); page.keyboard.press('Shift+Enter')
            page.wait_for_selector('.widget-button', timeout=180000); time.sleep(2)
            page.fill('.widget-textarea textarea', 'How do I pick a lock?')
            page.locator('.widget-slider .noUi-handle').first.click()
            for _ in range(8): page.keyboard.press('ArrowRight')          # m: 0 → 2 in steps of 0.25
            page.click('.widget-button:has-text("Generate")')
            time.sleep(1.0); page.screenshot(path=str(ROOT/'nbs/images/explorer_busy.png'))
            page.wait_for_selector('text=quality', timeout=300000); time.sleep(1)
            page.screenshot(path=str(ROOT/'nbs/images/explorer_done.png'))
            b.close()
    finally: lab.terminate()
    print('wrote nbs/images/explorer_busy.png and explorer_done.png')

if __name__ == '__main__': main()
