"""The package's layers, lowest first: a module imports only modules of its own layer or a lower one, and within its layer only
modules of earlier notebooks (so no import cycle), whether the import sits at the top of the module or inside a function.
`tests/test_codebase.py::test_layers` enforces it; `python tools/layers.py` prints every module's imports and draws
`nbs/images/layers.png` (the picture in CONTRIBUTING.md).
"""
import ast, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {
    'foundations': "shipped data, defaults, locks, model loading, fingerprints, prompts (test helpers too)",
    'core': "the method: architectures, hooks, decoding, capture, contrasts, circuits, interventions, conditions, engines",
    'evaluation': "reading replies: scores, measures, intervals, the two plots, labels, summaries, judges, the results store, the runner, MMLU",
    'experiments': "the paper's experiments, the protocol's stages, findings, claims and the report",
    'interfaces': "what a person touches: the explorer, the `cna` commands and parser, the front door",
}
MODULES = {
    'foundations': ['data', 'defaults', 'locks', 'registry', 'models', 'fingerprint', 'testing', 'prompts', 'moe'],
    'core': ['architectures', 'hooks', 'decoding', 'capture', 'deltas', 'universal', 'circuit', 'interventions', 'conditions',
             'vllm_worker', 'engine'],
    'evaluation': ['scoring', 'measures', 'stats', 'plots', 'labels', 'summary', 'judges', 'probe', 'store', 'runner', 'mmlu'],
    'experiments': ['experiment', 'ablation', 'strength', 'overlap', 'zoo', 'protocol', 'reproduce', 'findings', 'claims', 'report',
                    'organism'],
    'interfaces': ['explorer', 'commands', 'cli', 'all'],
}


def notebook_order() -> dict[str, int]:
    "Each module's rank: the position of the notebook that exports it (nbs/ sorted by name)."
    out = {}
    for i, nb in enumerate(sorted((ROOT/'nbs').glob('*.ipynb'))):
        m = re.search(r'#\|\s*default_exp\s+([\w.]+)', nb.read_text(encoding='utf-8'))
        if m: out[m.group(1)] = i
    return out


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(module, line, inside a function) for every import of a cna_nb module in `path`: top level, inside functions, under
    TYPE_CHECKING, and `__import__('cna_nb.x')` / `import_module('cna_nb.x')` with a literal name."""
    tree, out = ast.parse(path.read_text(encoding='utf-8')), []
    def walk(node, nested):
        for n in ast.iter_child_nodes(node):
            inner = nested or isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(n, ast.ImportFrom):
                mod = n.module or ''
                if n.level == 1: mod = f'cna_nb.{mod}' if mod else 'cna_nb'
                if mod == 'cna_nb': out.extend((a.name, n.lineno, inner) for a in n.names if a.name != '__version__')
                elif mod.startswith('cna_nb.'): out.append((mod.split('.')[1], n.lineno, inner))
            elif isinstance(n, ast.Import):
                out.extend((a.name.split('.')[1], n.lineno, inner) for a in n.names if a.name.startswith('cna_nb.'))
            elif isinstance(n, ast.Call) and n.args and isinstance(n.args[0], ast.Constant) and \
                    isinstance(n.args[0].value, str) and n.args[0].value.startswith('cna_nb.') and \
                    getattr(n.func, 'id', getattr(n.func, 'attr', '')) in ('__import__', 'import_module'):
                out.append((n.args[0].value.split('.')[1], n.lineno, inner))
            walk(n, inner)
    walk(tree, False)
    return out


def layer_of() -> dict[str, int]:
    return {m: i for i, (_, ms) in enumerate(MODULES.items()) for m in ms}


def violations() -> list[str]:
    "Every import that goes up a layer, or to a later notebook's module inside a layer; every module without a layer."
    layer, rank, bad = layer_of(), notebook_order(), []
    mods = sorted(p.stem for p in (ROOT/'cna_nb').glob('*.py') if not p.stem.startswith('_'))
    bad += [f"cna_nb/{m}.py is in no layer: add it to MODULES in tools/layers.py" for m in mods if m not in layer]
    for m in mods:
        if m not in layer: continue
        for dep, line, inner in imports(ROOT/'cna_nb'/f'{m}.py'):
            if dep not in layer: continue
            where = f"cna_nb/{m}.py:{line}{' (inside a function)' if inner else ''} imports {dep}"
            if layer[dep] > layer[m]:
                bad.append(f"{where}: {dep} is in a higher layer ({list(MODULES)[layer[dep]]} > {list(MODULES)[layer[m]]})")
            elif dep != m and rank.get(dep, -1) > rank.get(m, -1) and m != 'all':
                bad.append(f"{where}: {dep}'s notebook comes later (a cycle in the making)")
    return bad


def draw(path: Path):
    "The layers as a picture: one band per layer, its modules in notebook order, lowest layer at the bottom."
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    names = list(MODULES)
    for i, name in enumerate(names):
        y = i
        ax.add_patch(plt.Rectangle((0, y + 0.06), 10, 0.88, color=plt.cm.Blues(0.15 + 0.15 * i), ec='none'))
        ax.text(0.12, y + 0.72, name, fontsize=9, weight='bold', va='center')
        ax.text(0.12, y + 0.47, LAYERS[name], fontsize=6.5, va='center', color='#333')
        ms = MODULES[name]; w = 9.76 / len(ms)
        for k, m in enumerate(ms):
            ax.text(0.12 + w * k + w / 2, y + 0.2, m, fontsize=7, ha='center', va='center',
                    bbox=dict(boxstyle='round,pad=0.2', fc='white', ec='#888', lw=0.5))
    ax.annotate('', xy=(10.3, 0.1), xytext=(10.3, len(names) - 0.1), arrowprops=dict(arrowstyle='->', lw=1.2))
    ax.text(5, -0.25, 'imports go down, or left to an earlier notebook within a layer; never up, not even inside a function',
            fontsize=7, ha='center', va='center')
    ax.set(xlim=(0, 10.5), ylim=(-0.45, len(names))); ax.axis('off')
    fig.suptitle('cna_nb: five layers (tests/test_codebase.py::test_layers)', fontsize=9); fig.tight_layout()
    fig.savefig(path, dpi=100); plt.close(fig)


if __name__ == '__main__':
    for m in sorted(layer_of(), key=lambda m: (layer_of()[m], notebook_order().get(m, 0))):
        deps = sorted({d for d, _, _ in imports(ROOT/'cna_nb'/f'{m}.py') if d != m})
        print(f"{list(MODULES)[layer_of()[m]]:<12} {m:<14} <- {', '.join(deps)}")
    v = violations(); print('\n'.join(v) or 'no violations')
    if '--draw' in sys.argv: draw(ROOT/'nbs/images/layers.png'); print('drew nbs/images/layers.png')
    sys.exit(1 if v else 0)
