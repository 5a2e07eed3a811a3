"""The documentation site, built offline from the notebooks: `bash docs.sh` (this script, then Sphinx) writes `_docs/`.

    .venv/bin/python tools/docs.py [--src _docs_src] [--out _docs]

What it does, in order:
1. Copies every notebook of `nbs/` (in file order) and `nbs/tutorials/` into a scratch source tree, keeping prose, code, kept
   outputs and figures. nbdev's cell directives become Sphinx's: `#| hide` drops the cell, `#| echo: false` keeps its output only,
   `#| export` / `#| slow` / `#| default_exp` lines are removed from the code shown. The first cell's title and `> summary` line
   become the page's title and its description (the HTML `<meta name="description">`), as nbdev does.
2. Writes one API page per module of `cna_nb`: every exported symbol (`__all__`) with its signature, its docments (the comment
   after each parameter), its docstring, its public methods (patched ones included), and a link to the notebook cell it is
   exported from. Each symbol is a Sphinx object (`py:function`, `py:class`, `py:data`), so the search box finds it by name.
3. Writes the Sphinx configuration: MyST-NB reading the stored outputs (never executing), the PyData theme with nothing fetched
   from the network (no fonts or scripts from a CDN; `mathjax_path` names a local file, so a page with math would never link
   MathJax's CDN — none holds math today, and the browser test fails on any request off the local files), and the navigation in
   the notebooks' order: the home page (the README's notebook), the results page, the stages, the tutorials, the API reference.
4. Runs `sphinx-build` into `_docs/`: any warning (a reference MyST could not resolve, an image not found) fails the build.
"""
import argparse, dataclasses, importlib, inspect, json, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
from render_readme import BARS     # the README's rule for progress bars in stored outputs, one place
DIRECTIVE = re.compile(r'^#\|\s*(.*)$')


def directives(src: str) -> tuple[list[str], str]:
    "nbdev's `#|` lines of a code cell, and the code without them."
    keep, found = [], []
    for line in src.splitlines():
        m = DIRECTIVE.match(line)
        if m: found.append(m.group(1).strip())
        else: keep.append(line)
    return found, '\n'.join(keep).strip('\n')


def title_and_summary(nb: dict) -> tuple[str, str]:
    "The notebook's `# Title` and `> summary` (nbdev's front matter), from its first markdown cell."
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        s = ''.join(c['source'])
        t = re.search(r'^#\s+(.+)$', s, re.M); d = re.search(r'^>\s*(.+)$', s, re.M)
        if t: return t.group(1).strip(), (d.group(1).strip() if d else '')
    return '', ''


def convert(src: Path, dst: Path) -> dict:
    "One notebook -> the site's copy; returns its title, summary and cell count."
    nb = json.loads(src.read_text())
    title, summary = title_and_summary(nb)
    cells = []
    for c in nb['cells']:
        if c['cell_type'] == 'code':
            found, code = directives(''.join(c['source']))
            if any(f.startswith('hide') for f in found): continue
            tags = ['remove-input'] if any(f.replace(' ', '') == 'echo:false' for f in found) else []
            if not code and not c.get('outputs'): continue
            outs = [o for o in c.get('outputs', []) if not (o.get('output_type') == 'display_data'
                                                          and 'application/vnd.jupyter.widget-view+json' in o.get('data', {}))]
            for o in outs:                                            # transformers' progress bars, as render_readme drops them
                if o.get('output_type') == 'stream':
                    o['text'] = BARS.sub('', ''.join(o['text']))
            outs = [o for o in outs if o.get('output_type') != 'stream' or o['text']]
            c = dict(c, source=code, outputs=outs, metadata={'tags': tags} if tags else {})
        elif c['cell_type'] == 'raw': continue
        else: c = dict(c, source=''.join(c['source']).replace('](nbs/', ']('))   # README paths (index.ipynb) -> site paths
        if c['cell_type'] == 'code':
            for o in c['outputs']:                                       # index.ipynb prints markdown with README paths too
                md = o.get('data', {}).get('text/markdown')
                if md: o['data']['text/markdown'] = ''.join(md).replace('](nbs/', '](').replace('src="nbs/', 'src="')
        cells.append(c)
    nb = dict(nb, cells=cells)
    nb['metadata'] = {'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'},
                      'language_info': {'name': 'python', 'pygments_lexer': 'ipython3'}}   # nbdev_clean strips them
    if summary: nb['metadata']['myst'] = {'html_meta': {'description': summary}}    # nbdev's summary line as the page's description
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(nb))
    return dict(title=title, summary=summary, cells=len(cells))


def where_defined(module) -> dict:
    "symbol -> (notebook, cell id) from the `# %% ../nbs/x.ipynb #cellid` markers nbdev writes before each exported cell."
    out, cur = {}, None
    for line in Path(module.__file__).read_text().splitlines():
        m = re.match(r'# %% \.\./nbs/(\S+\.ipynb) #([\w-]+)', line)
        if m: cur = m.groups(); continue
        p = re.match(r'def (\w+)\(self:\s*(\w+)', line)           # a @patch'ed method: Class.name only
        if cur and p: out.setdefault(f'{p.group(2)}.{p.group(1)}', cur); continue
        m = re.match(r'(?:def|class)\s+(\w+)|(\w+(?:\s*,\s*\w+)*)\s*(?::[^=]+)?=', line)   # x = …, a, b = …, x: T = …
        if cur and m:
            for name in re.split(r'\s*,\s*', m.group(1) or m.group(2)): out.setdefault(name, cur)
    return out


def _sig(obj) -> str:
    "The signature with its annotations evaluated (modules use `from __future__ import annotations`), else as written."
    for kw in ({'eval_str': True}, {}):
        try: return str(inspect.signature(obj, **kw))
        except (TypeError, ValueError, NameError, AttributeError, SyntaxError): continue
    return '(...)'


def _params(obj) -> list[tuple]:
    "(name, annotation, default, docment) for each parameter, from fastcore's docments."
    from fastcore.docments import docments
    try: d = docments(obj, full=True)
    except Exception: return []
    rows = []
    for k, v in d.items():
        if k in ('return', 'self'): continue
        anno = '' if v.anno is inspect.Parameter.empty else getattr(v.anno, '__name__', str(v.anno))
        default = '' if v.default is inspect.Parameter.empty else repr(v.default)
        rows.append((k, str(anno).replace('|', '\\|'), default.replace('|', '\\|'), (v.docment or '').replace('|', '\\|')))
    return rows


def _class_params(cls) -> list[tuple]:
    """A class's parameters: a dataclass's fields (their comments, or `field(metadata={'help': …})`), else its `__init__`'s."""
    if not dataclasses.is_dataclass(cls): return _params(cls.__init__)
    rows = {r[0]: r for r in _params(cls)}
    out = []
    for f in dataclasses.fields(cls):
        if not f.init: continue
        n, a, d, doc = rows.get(f.name, (f.name, str(f.type).replace('|', '\\|'), '', ''))
        out.append((n, a, d, doc or str(f.metadata.get('help', '')).replace('|', '\\|')))
    return out


def _table(rows) -> str:
    if not any(r[3] for r in rows): return ''
    lines = ['| parameter | type | default | |', '|---|---|---|---|']
    lines += [f"| `{n}` | {f'`{a}`' if a else ''} | {f'`{d}`' if d else ''} | {doc} |" for n, a, d, doc in rows]
    return '\n'.join(lines) + '\n'


def _doc(obj) -> str:
    d = inspect.getdoc(obj) or ''
    return d.replace('```', "'''")


def _source(defs: dict, key: str, pages: dict) -> str:
    if key not in defs: return ''
    nb, cell = defs[key]
    return f"Exported from [{nb}](../{pages.get(nb, nb[:-6])}.ipynb), cell `{cell}`.\n"


def api_page(modname: str, pages: dict) -> tuple[str, int]:
    "The MyST page of one module: every name in `__all__`, as a Sphinx object."
    mod = importlib.import_module(f'cna_nb.{modname}')
    defs = where_defined(mod)
    head = (inspect.getdoc(mod) or '').strip()
    out = [f"# cna_nb.{modname}\n", f"{head}\n" if head else '', f"```{{py:module}} cna_nb.{modname}\n:no-index:\n```\n"]
    n = 0
    for name in dict.fromkeys(getattr(mod, '__all__', [])):     # once each, in __all__'s order
        obj = getattr(mod, name, None)
        if obj is None: continue
        n += 1
        if inspect.isclass(obj):
            out.append(f"````{{py:class}} {name}{_sig(obj)}\n:module: cna_nb.{modname}\n\n{_doc(obj)}\n\n{_table(_class_params(obj))}"
                       f"{_source(defs, name, pages)}")
            for mname, m in sorted(vars(obj).items()):
                if mname.startswith('_') or not (inspect.isfunction(m) or isinstance(m, property)): continue
                if isinstance(m, property):
                    out.append(f"```{{py:property}} {mname}\n\n{_doc(m)}\n```\n"); continue
                src = _source(defs, f'{name}.{mname}' if f'{name}.{mname}' in defs else name, pages)
                out.append(f"```{{py:method}} {mname}{_sig(m)}\n\n{_doc(m)}\n\n{_table(_params(m))}{src}```\n")
            out.append("````\n")
        elif callable(obj):
            out.append(f"```{{py:function}} {name}{_sig(obj)}\n:module: cna_nb.{modname}\n\n{_doc(obj)}\n\n{_table(_params(obj))}"
                       f"{_source(defs, name, pages)}```\n")
        else:
            r = repr(obj); r = r if len(r) <= 200 else r[:200] + ' …'
            out.append(f"```{{py:data}} {name}\n:module: cna_nb.{modname}\n\n`{r.replace('`', chr(39))}`\n\n"
                       f"{_source(defs, name, pages)}```\n")
    return '\n'.join(out), n


CONF = '''# written by tools/docs.py: edit that script, not this file
project = "cna_nb"
author = "cna_nb contributors"
extensions = ["myst_nb"]
nb_execution_mode = "off"                 # the notebooks' stored outputs, never executed here
nb_render_markdown_format = "myst"        # Markdown outputs (the generated tables) rendered as MyST, tables included
nb_output_stderr = "show"              # warnings a cell printed stay on its page
myst_enable_extensions = ["colon_fence", "html_image"]
myst_heading_anchors = 3
html_theme = "pydata_sphinx_theme"
html_title = "cna_nb"
html_context = {"default_mode": "light"}     # the theme logs a console error on a first visit without it
html_static_path = []
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2, "navbar_align": "left",
                      "footer_start": ["copyright"], "footer_end": [], "secondary_sidebar_items": ["page-toc"]}
html_sidebars = {"**": ["sidebar-nav-bs"]}
html_show_sourcelink = False
html_copy_source = False
mathjax_path = "nomath.js"                # never the CDN (no page holds math; see the docstring)
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]
exclude_patterns = ["_build"]
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--src', default='_docs_src'); ap.add_argument('--out', default='_docs')
    a = ap.parse_args()
    t0 = time.time()
    if not (Path(sys.executable).parent/'sphinx-build').exists():
        raise SystemExit("the docs extra is not installed (Sphinx, MyST-NB, the PyData theme; Python >= 3.11): "
                         ".venv/bin/pip install -e '.[docs]'")
    src, out = ROOT/a.src, ROOT/a.out
    for d, mark in ((src, 'conf.py'), (out, '.buildinfo')):        # never delete a folder this script did not write
        if d.exists() and any(d.iterdir()) and not (d/mark).exists():
            raise SystemExit(f"{d} exists and is not a docs {'source' if d == src else 'output'} folder (no {mark}): pick another --src/--out")
    if src.exists(): shutil.rmtree(src)
    src.mkdir(parents=True)
    stages = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if p.name not in ('index.ipynb', 'results.ipynb'))
    tutorials = sorted((ROOT/'nbs/tutorials').glob('*.ipynb'))
    pages, meta = {}, {}
    for p in [ROOT/'nbs/index.ipynb', ROOT/'nbs/results.ipynb', *stages, *tutorials]:
        rel = p.relative_to(ROOT/'nbs')
        meta[str(rel)] = convert(p, src/rel); pages[p.name] = str(rel.with_suffix(''))
    shutil.copytree(ROOT/'nbs/images', src/'images')
    shutil.copytree(ROOT/'nbs/images', src/'tutorials/images', dirs_exist_ok=True)   # tutorials link ../images or images
    mods = sorted(p.stem for p in (ROOT/'cna_nb').glob('*.py') if not p.stem.startswith('_') and p.stem != 'all')
    (src/'api').mkdir()
    n_sym = 0
    for m in mods:
        text, n = api_page(m, pages); n_sym += n
        (src/'api'/f'{m}.md').write_text(text)
    (src/'api/index.md').write_text("# API reference\n\nEvery exported name of `cna_nb`, one page per module (`from cna_nb.all import *` "
                                    "imports them all).\n\n```{toctree}\n:maxdepth: 1\n\n" + '\n'.join(mods) + "\n```\n")
    # the navigation: the home page (the README's notebook), then the results page (what the README left out), the stages in
    # file order, the tutorials, the API
    def section(name, title, intro, docs):
        rows = '\n'.join(f"| [{meta[d + '.ipynb']['title'] or d}]({d}.ipynb) | {meta[d + '.ipynb']['summary']} |" for d in docs)
        (src/f'{name}.md').write_text(f"# {title}\n\n{intro}\n\n| page | what it is |\n|---|---|\n{rows}\n\n"
                                      "```{toctree}\n:hidden:\n:maxdepth: 1\n\n" + '\n'.join(docs) + "\n```\n")
    section('stages', 'Stages', "One notebook per stage of the method, in order; each exports one module of `cna_nb` and runs as a "
            "literate test (`nbdev_test`).", [p.stem for p in stages])
    section('tutorials', 'Tutorials', "Read-and-run walk-throughs on the embedded models.", [f'tutorials/{p.stem}' for p in tutorials])
    idx = json.loads((src/'index.ipynb').read_text())
    idx['cells'].append({'cell_type': 'markdown', 'metadata': {},
                         'source': "```{toctree}\n:hidden:\n:maxdepth: 1\n\nresults\nstages\ntutorials\napi/index\n```\n"})
    (src/'index.ipynb').write_text(json.dumps(idx))
    (src/'conf.py').write_text(CONF)
    print(f"docs: {len(meta)} notebooks, {len(mods)} API pages ({n_sym} symbols) -> {src}/ in {time.time() - t0:.0f} s", flush=True)
    if out.exists(): shutil.rmtree(out)
    scratch = out.parent/'jupyter_execute'         # MyST-NB writes its copies of the notebooks beside the output folder
    had_scratch = scratch.exists()
    r = subprocess.run([str(Path(sys.executable).parent/'sphinx-build'), '-b', 'html', '-q', '-j', 'auto', str(src), str(out)],
                       capture_output=True, text=True)
    if not had_scratch: shutil.rmtree(scratch, ignore_errors=True)   # the site never links them
    warns = [l for l in r.stderr.splitlines() if 'WARNING' in l or 'ERROR' in l]
    for w in warns[:40]: print(w.replace(str(src) + '/', ''))
    if r.returncode: print(r.stderr[-3000:]); raise SystemExit(f"sphinx-build failed (exit {r.returncode})")
    if warns: raise SystemExit(f"sphinx-build: {len(warns)} warnings (above): a warning is a broken reference or page; fix it")
    shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print(f"docs: built {shown}/ ({len(list(out.rglob('*.html')))} pages, {len(warns)} warnings) in {time.time() - t0:.0f} s; "
          f"open {shown}/index.html")


if __name__ == '__main__':
    main()
