"""Render README.md from nbs/index.ipynb without quarto: markdown cells verbatim, visible code cells as python blocks,
text outputs as plain blocks. `#| hide` cells and the nbdev directives are dropped; an `#| echo: false` cell shows only its output, and
a Markdown output (`IPython.display.Markdown`: a table computed from kept result files) is inlined as Markdown. CI fails if README.md
is stale. `render(path)` gives the same text for any notebook (tests/test_readme_numbers.py reads nbs/results.ipynb with it)."""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent


BARS = re.compile(r'Loading weights:[^\n]*?(it/s\]|s/it\])\n?')   # transformers' progress bars in a stored output


def render(path: Path) -> tuple[str, int]:
    "A notebook as Markdown (the README's rules), and its cell count."
    nb = json.loads(Path(path).read_text(encoding='utf-8'))
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
        texts = [BARS.sub('', t) for t in texts]
        if texts: out.append("```\n" + ''.join(texts).rstrip() + "\n```")
    return '\n\n'.join(out) + '\n', len(nb['cells'])


if __name__ == '__main__':
    body, n = render(root/'nbs'/'index.ipynb')
    text = "<!-- Generated from nbs/index.ipynb by tools/render_readme.py: edit the notebook, not this file. -->\n\n" + body
    (root/'README.md').write_text(text, encoding='utf-8')
    print(f"README.md: {len(text)} characters, {text.count(chr(10))} lines from {n} cells", file=sys.stderr)
