"""Render README.md from nbs/index.ipynb without quarto: markdown cells verbatim, visible code cells as python blocks,
text outputs as plain blocks. `#| hide` cells and the nbdev directives are dropped; an `#| echo: false` cell shows only its output, and
a Markdown output (`IPython.display.Markdown`: a table computed from kept result files) is inlined as Markdown. CI fails if README.md
is stale."""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
nb = json.loads((root/'nbs'/'index.ipynb').read_text(encoding='utf-8'))
out = []
for c in nb['cells']:
    src = ''.join(c['source'])
    if c['cell_type'] == 'markdown':
        out.append(src.strip()); continue
    if re.search(r'^#\|\s*(hide|exporti?)\b', src, re.M): continue
    code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
    if code and not re.search(r'^#\|\s*echo:\s*false', src, re.M): out.append(f"```python\n{code}\n```")
    texts = []
    for o in c.get('outputs', []):
        if 'data' in o and 'text/markdown' in o['data']: out.append(''.join(o['data']['text/markdown']).strip()); continue
        if o.get('output_type') == 'stream' and o.get('name') == 'stdout': texts.append(''.join(o['text']))
        elif 'data' in o and 'text/plain' in o['data'] and 'image/png' not in o['data']: texts.append(''.join(o['data']['text/plain']))
    texts = [re.sub(r'Loading weights:[^\n]*?(it/s\]|s/it\])', '', t) for t in texts]   # progress bars
    if texts: out.append("```\n" + ''.join(texts).rstrip() + "\n```")
text = "<!-- Generated from nbs/index.ipynb by tools/render_readme.py: edit the notebook, not this file. -->\n\n" + '\n\n'.join(out) + '\n'
(root/'README.md').write_text(text, encoding='utf-8')
print(f"README.md: {len(text)} characters from {len(nb['cells'])} cells", file=sys.stderr)
