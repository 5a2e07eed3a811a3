"""The README's main result tables, and those of the results page it links to (nbs/results.ipynb), are quoted from kept result files:
this re-reads the files and checks every quoted number; and the README fits on a screen or two."""
import importlib.util, re
from pathlib import Path
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
ROWS = {'baseline': 'baseline', 'CNA ablation (m = 0)': 'CNA m=0', 'random control (m = 0)': 'random m=0', 'CAA (α = 1)': 'CAA α=1'}


def results_page() -> str:
    "nbs/results.ipynb rendered the way the README is (tools/render_readme.py)."
    spec = importlib.util.spec_from_file_location('render_readme', ROOT/'tools/render_readme.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod.render(ROOT/'nbs/results.ipynb')[0]


def readme_table(after: str, page: str = 'README') -> dict[str, list[str]]:
    "The rows of the first markdown table after the line that starts with `after`, by condition, in the README or the results page."
    text = ((ROOT/'README.md').read_text() if page == 'README' else results_page()).split('\n')
    start = next(i for i, l in enumerate(text) if l.startswith(after))
    rows, seen = {}, False
    for l in text[start:]:
        if l.startswith('|'):
            seen = True
            cells = [c.strip() for c in l.strip('|').split('|')]
            if cells[0] in ROWS: rows[ROWS[cells[0]]] = cells
        elif seen: break
    return rows


@pytest.mark.parametrize('after, folder, page', [('`cna run` at its defaults', 'xeon-amx_f32_b64', 'README'),
                                                 ('`cna run` at its defaults', 'xeon-amx_f32_b64', 'results'),
                                                 ('**bfloat16** (`--dtype bfloat16`', 'xeon-amx_bf16_b64', 'results')])
def test_readme_result_tables_match_the_kept_runs(after, folder, page):
    """Refusal (probe judge) with its CI, the keyword list's refusal, verdict counts and quality (with the number too short to judge)
    of each condition, as printed in the README, equal the kept `cna run` summary."""
    kept = pd.read_csv(ROOT/'benchmarks/results/cna_run'/folder/'summary.csv').set_index('condition')
    rows = readme_table(after, page)
    assert set(rows) == set(ROWS.values())
    for cond, cells in rows.items():
        k = kept.loc[cond]
        assert cells[2] == f"{100*k.refusal:.1f}% [{100*k.refusal_lo:.1f}, {100*k.refusal_hi:.1f}]", (cond, cells[2])
        assert cells[3] == f"{100*k.keyword_refusal:.1f}%", (cond, cells[3])
        assert cells[4] == f"{int(k.refused)} / {int(k.complied)} / {int(k.degenerate)}", (cond, cells[4])
        assert cells[5] == f"{k.quality:.3f} ({int(k.short)})", (cond, cells[5])
        assert int(k.n) == 100 and int(k.max_new_tokens) == 48


@pytest.mark.parametrize('page', ['README', 'results'])
@pytest.mark.parametrize('model', ['qwen2.5-coder-0.5b-instruct', 'qwen2.5-coder-1.5b-instruct'])
def test_readme_claims_come_from_the_kept_reports(model, page):
    "Every claim's measured figure and verdict in the README's paper-scale table is the one in that run's kept report.json."
    import json
    rep = json.loads((ROOT/'benchmarks/results/reproduce'/model/'report.json').read_text())
    readme = (ROOT/'README.md').read_text() if page == 'README' else results_page()
    row = lambda c: next(l for l in readme.splitlines() if l.startswith(f"| {c['claim']} |"))
    for c in rep['claims']:
        assert f"{c['measured'] or '—'} | **{c['verdict']}**" in row(c), (model, c['claim'])


def test_readme_fits_on_a_screen_or_two():
    "README.md at most 200 lines and 20 KB; what it no longer says is on the results page (nbs/results.ipynb), not gone."
    text = (ROOT/'README.md').read_text()
    assert text.count('\n') <= 200 and len(text.encode()) <= 20_000, (text.count('\n'), len(text.encode()))
    page = results_page()
    for heading in ('## Results on the embedded model', '### The paper at 1.5B scale', '### Capability, over-refusal and StrongREJECT',
                    '### CNA vs residual-stream steering', '### Which behaviours does CNA control', '### Localization and stability',
                    '### Mixture-of-experts models', '## Performance', '### bfloat16 or float32', '## Tutorials and the explorer',
                    '### Check the judge on your own run', '### On a GPU', '## Set-up and commands in full'):
        assert heading in page, heading
    assert '](nbs/results.ipynb' in text
