"""The shape of the code base (CONTRIBUTING.md): module size, line length, cell size, public names, dependency order, defaults.

These are the conventions a reader relies on; each test names the file or cell that breaks one."""
import ast, importlib, inspect, json, re, statistics
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(p for p in (ROOT/'cna_nb').glob('*.py') if p.name not in ('__init__.py', '_modidx.py'))
LIB_NBS = sorted((ROOT/'nbs').glob('[0-9]*.ipynb'))


def cells(nb: Path) -> list[dict]:
    return [dict(c, text=''.join(c['source'])) for c in json.loads(nb.read_text())['cells']]


def exported(nb: Path) -> list[str]:
    return [c['text'] for c in cells(nb) if c['cell_type'] == 'code' and re.match(r'\s*#\|\s*export', c['text'])]


def default_exp(nb: Path) -> str | None:
    m = next((re.search(r'#\|\s*default_exp\s+(\S+)', c['text']) for c in cells(nb) if 'default_exp' in c['text']), None)
    return m.group(1) if m else None


@pytest.mark.parametrize('path', MODULES, ids=lambda p: p.name)
def test_module_size_and_line_length(path):
    "No module over 300 lines; at most 2% of a module's lines over 120 characters."
    lines = path.read_text().splitlines()
    long = [i + 1 for i, l in enumerate(lines) if len(l) > 120]
    assert len(lines) <= 300, f"{path.name} has {len(lines)} lines: split it by what it holds (CONTRIBUTING.md)"
    assert len(long) <= 0.02 * len(lines), f"{path.name}: lines {long} are over 120 characters"


def test_exported_cells_are_small():
    "The median exported cell is at most 12 lines and none is over 40: one idea per cell."
    sizes = {(nb.name, i): len(src.splitlines()) for nb in LIB_NBS for i, src in enumerate(exported(nb))}
    big = {k: v for k, v in sizes.items() if v > 40}
    assert not big, f"exported cells over 40 lines (notebook, n-th exported cell): {big}"
    assert statistics.median(sizes.values()) <= 12


def test_every_module_comes_from_one_notebook():
    "Each module is exported by exactly one library notebook (its `default_exp`), and every notebook's module exists."
    owners = {}
    for nb in LIB_NBS:
        owners.setdefault(default_exp(nb), []).append(nb.name)
    assert all(len(v) == 1 for v in owners.values()), owners
    assert {p.stem for p in MODULES} == set(owners), set(owners) ^ {p.stem for p in MODULES}


def _layers():
    spec = importlib.util.spec_from_file_location('layers', ROOT/'tools/layers.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod); return mod


def test_layers():
    """Every module sits in one layer (tools/layers.py) and imports only its own layer or lower ones, and inside its layer only
    modules of earlier notebooks, reading every import: top level, inside functions, under TYPE_CHECKING, `__import__('cna_nb.x')`."""
    bad = _layers().violations()
    assert not bad, "imports against the layers (CONTRIBUTING.md, Layers):\n" + "\n".join(bad)


def test_layer_test_reads_imports_inside_functions(tmp_path):
    "The layer test could fail: it sees an import hidden in a function body and one spelled as __import__."
    f = tmp_path/'m.py'
    f.write_text("import os\ndef f():\n    from cna_nb.report import x\ng = lambda: __import__('cna_nb.cli')\n")
    assert _layers().imports(f) == [('report', 3, True), ('cli', 4, True)]


# Notebooks allowed a longer run of exported cells with no example or test between them while they are rewritten (name: run); every
# other notebook has at most 4. Empty since issue 38: each exported symbol is followed by its example (fastcore's rhythm).
EXPORT_RUNS = {}


def only_imports(text: str) -> bool:
    "An exported cell that defines nothing: imports only (a notebook's import cell)."
    body = [l for l in text.splitlines()[1:] if l.strip() and not l.lstrip().startswith('#')]
    return bool(body) and all(re.match(r'(from \S+ )?import ', l) for l in body)


def export_runs(nb: Path) -> int:
    """The longest run of `#| export` cells that define something (the import cell does not) without a code cell that is
    neither exported nor hidden between them."""
    run = best = 0
    for c in cells(nb):
        if c['cell_type'] != 'code' or re.match(r'\s*#\|\s*(hide|default_exp)', c['text']) or only_imports(c['text']): continue
        run = run + 1 if re.match(r'\s*#\|\s*export', c['text']) else 0
        best = max(best, run)
    return best


def test_notebooks_alternate_code_and_examples():
    "No notebook grows a run of exported cells without an example: at most 4, or its recorded run (EXPORT_RUNS) while it is rewritten."
    worse = {nb.name: export_runs(nb) for nb in LIB_NBS if export_runs(nb) > EXPORT_RUNS.get(nb.name, 4)}
    assert not worse, f"runs of exported cells with no example between them (show each symbol working before the next): {worse}"


def test_notebook_order_is_dependency_order():
    "A notebook imports (at top level) only modules of notebooks before it, tests and examples included: read in order, nothing is missing."
    rank = {default_exp(nb): (i, nb.name) for i, nb in enumerate(LIB_NBS)}
    late = []
    for i, nb in enumerate(LIB_NBS):
        for c in cells(nb):
            if c['cell_type'] != 'code': continue
            # top-level imports only: a lazy import inside a function body is the documented exception (CONTRIBUTING.md)
            for mod in re.findall(r'^(?:from|import) cna_nb\.(\w+)', c['text'], re.M):
                if mod in rank and rank[mod][0] > i and mod != 'all': late.append((nb.name, mod))
    assert not late, f"notebooks importing a later notebook's module: {sorted(set(late))}"


def _public_functions():
    "Every public function, class and method of every module's __all__, as (qualified name, object)."
    for path in MODULES:
        if path.stem == 'all': continue                  # re-exports only
        mod = importlib.import_module(f'cna_nb.{path.stem}')
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name)
            if inspect.isfunction(obj) or inspect.isclass(obj): yield f'{path.stem}.{name}', obj
            if inspect.isclass(obj) and obj.__module__ == mod.__name__:
                for attr, raw in vars(obj).items():
                    if attr.startswith('_'): continue
                    f = raw.fget if isinstance(raw, property) else getattr(raw, '__func__', raw)
                    if inspect.isfunction(f): yield f'{path.stem}.{name}.{attr}', f


def test_no_public_api_under_a_private_name():
    "Every public function and method is defined under its own public name (nbdev's index and the docs show that name)."
    hidden = [(q, f.__name__) for q, f in _public_functions() if f.__name__.startswith('_')]
    assert not hidden, f"public API defined as a private function (assign it inside the class or @patch it): {hidden}"


def test_max_new_tokens_defaults_agree():
    "Every function with a `max_new_tokens` parameter defaults to `defaults.MAX_NEW_TOKENS` (the judges' own answer length excepted)."
    from cna_nb.defaults import MAX_NEW_TOKENS
    seen, odd = 0, []
    for q, f in _public_functions():
        try: p = inspect.signature(f).parameters.get('max_new_tokens')
        except (TypeError, ValueError): continue
        if p is None or p.default is inspect.Parameter.empty or q.startswith('judges.'): continue
        seen += 1
        if p.default not in (MAX_NEW_TOKENS, None): odd.append((q, p.default))
    assert seen >= 6 and not odd, odd
    from cna_nb.cli import build_parser
    for argv in (['run'], ['eval'], ['steer', '--circuit', 'c.pt', '--prompt', 'x'], ['compare', '--base', 'a', '--instruct', 'b']):
        assert build_parser().parse_args(argv).max_new_tokens == MAX_NEW_TOKENS, argv


def test_no_module_reaches_into_another_modules_private_names():
    "A module's `_names` are its own: importing one from another module means it is public API of a smaller module."
    bad = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or '').split('.')[-1] in {p.stem for p in MODULES}:
                bad += [(path.name, node.module, a.name) for a in node.names if a.name.startswith('_')]
    assert not bad, bad
