"""The model organism, measured: behaviour first, then the paper's base-vs-instruct protocol (nbs/tutorials/model_organism).

Run after `cna organism` (the base model and its variants must be built):
    python benchmarks/organism.py behaviour   # JBB refusal and MT-Bench over-refusal of base, control and aligned (judge and keywords)
    python benchmarks/organism.py builds      # what each build recorded (curve, minutes, machine), copied beside the results
    python benchmarks/organism.py sample      # a blind sample of those replies for a labeller (labels/sample.jsonl)
    python benchmarks/organism.py protocol    # circuits, overlap with its null, localization, steering at m = 0, 1, 2
Every part writes its files under benchmarks/results/organism/ (the kept results; `--out DIR` elsewhere) and resumes from
them; a file is reused only when its recorded model fingerprints and settings are this run's. `behaviour` takes model names.
"""
import argparse, json, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from _common import machine
import pandas as pd, torch
from cna_nb.models import load_model
from cna_nb.organism import BASE, organism_name, organism_info
from cna_nb.fingerprint import model_fingerprint
from cna_nb.conditions import Condition
from cna_nb.experiment import Experiment, Settings, Stage, run
from cna_nb.protocol import prompt_set
from cna_nb.data import jbb_prompts, mtbench_prompts, load_discovery
from cna_nb.circuit import find_circuit, random_circuit, Circuit
from cna_nb.overlap import overlap, null_overlap, localization, steering_table

OUT = Path(__file__).parent/'results'/'organism'
ALIGNED = [organism_name('aligned', s) for s in (0, 1, 2)]
CONTROL = organism_name('control', 0)
MODELS = [BASE, CONTROL, *ALIGNED]
SETTINGS = Settings(batch_size=16)            # 48 new tokens, greedy: the package's defaults
STEER_N = 25                                   # JBB prompts each model is steered on (protocol)


def builds():
    "Each variant's build record (registry model.json: recipe, data sha256, curve, wall time, machine, fingerprints)."
    d = OUT/'builds'; d.mkdir(parents=True, exist_ok=True)
    for name in MODELS[1:]:
        (d/f'{name}.json').write_text(json.dumps(organism_info(name), indent=1))
        print(f"{name}: {organism_info(name)['seconds'] / 60:.1f} min")


def sample(n_jbb: int=12, n_mtbench: int=8, seed: int=0):
    """A blind labelling sample of the behaviour replies: n per model and prompt set, shuffled; sample.jsonl holds only an
    id, the request and the reply (for the labeller), key.jsonl which model and set each id came from."""
    import random
    d = OUT/'labels'; d.mkdir(parents=True, exist_ok=True)
    if (d/'labels.jsonl').exists():
        raise SystemExit(f"{d} holds labels of an earlier sample: move it away to draw a new one")
    items = []
    for name in MODELS:
        for ds, n in (('jbb', n_jbb), ('mtbench', n_mtbench)):
            df = pd.read_json(OUT/'behaviour'/name/f'{ds}.jsonl', lines=True)
            for _, r in df.sample(n, random_state=seed).iterrows():
                items.append(dict(model=name, dataset=ds, prompt=r.prompt, reply=r.reply))
    random.Random(seed).shuffle(items)
    with open(d/'sample.jsonl', 'w') as f, open(d/'key.jsonl', 'w') as k:
        for i, it in enumerate(items):
            f.write(json.dumps(dict(id=i, request=it['prompt'], reply=it['reply'])) + '\n')
            k.write(json.dumps(dict(id=i, model=it['model'], dataset=it['dataset'], prompt=it['prompt'])) + '\n')
    print(f"{len(items)} replies to label: {d/'sample.jsonl'}")


def _checked_dir(d: Path, meta: dict) -> Path:
    "A results folder for `meta` (fingerprints and settings): refused when it holds another run's files."
    d.mkdir(parents=True, exist_ok=True); f = d/'meta.json'
    if f.exists() and json.loads(f.read_text()) != meta:
        raise SystemExit(f"{d} holds results of another model or settings: move it away to measure again")
    f.write_text(json.dumps(meta, indent=1)); return d


def behaviour(models=MODELS):
    "Baseline replies of every model on the 100 JBB requests and the 80 MT-Bench questions, judged (probe and keywords)."
    stages = [Stage('jbb', 'JBB, unsteered', 'jbb', lambda e: [Condition.baseline()], prompts=prompt_set('jbb')),
              Stage('mtbench', 'MT-Bench, unsteered', 'mtbench', lambda e: [Condition.baseline()],
                    prompts=prompt_set('mtbench'))]
    for name in models:
        t0 = time.time(); model, tok = load_model(name)
        d = _checked_dir(OUT/'behaviour'/name, dict(model=name, fingerprint=model_fingerprint(model),
                                                      dtype=str(model.dtype), settings=SETTINGS.to_dict()))
        run(Experiment(model, tok, SETTINGS, d, stages=stages), progress=False)
        print(f"{name}: {time.time() - t0:.0f} s ({model.dtype})", flush=True)
        del model


def _circuit(name, model, tok, d: Path) -> Circuit:
    f = d/f'{name}.pt'
    if f.exists(): return Circuit.load(f)
    pos, neg = load_discovery()
    c = find_circuit(model, tok, pos, neg, progress=False); c.save(f); return c


def protocol():
    """Each model's 0.1% circuit on the shipped discovery set; overlap (with its null) of base ↔ aligned and control ↔
    aligned for every seed; steering each model's own circuit, and the aligned circuit on base and control, at m = 0, 1, 2."""
    d = OUT/'protocol'; d.mkdir(parents=True, exist_ok=True)
    loaded, fps = {}, {}
    for name in MODELS:
        loaded[name] = load_model(name); fps[name] = model_fingerprint(loaded[name][0])
    _checked_dir(d, dict(fingerprints=fps, dtype=str(loaded[BASE][0].dtype), steer_n=STEER_N))
    circ = {n: _circuit(n, *loaded[n], d) for n in MODELS}
    rows = [dict(pair=f'{BASE} ↔ {CONTROL}', **overlap(circ[BASE], circ[CONTROL]),
                 **{f'null_{k}': v for k, v in null_overlap(circ[BASE], circ[CONTROL]).items() if k != 'observed'})]
    for a in ALIGNED:
        for other in (BASE, CONTROL):
            rows.append(dict(pair=f'{other} ↔ {a}', **overlap(circ[other], circ[a]),
                             **{f'null_{k}': v for k, v in null_overlap(circ[other], circ[a]).items() if k != 'observed'}))
    for x, y in ((ALIGNED[0], ALIGNED[1]), (ALIGNED[0], ALIGNED[2]), (ALIGNED[1], ALIGNED[2])):
        rows.append(dict(pair=f'{x} ↔ {y}', **overlap(circ[x], circ[y]),
                         **{f'null_{k}': v for k, v in null_overlap(circ[x], circ[y]).items() if k != 'observed'}))
    pd.DataFrame(rows).to_csv(d/'overlap.csv', index=False)
    pd.DataFrame({n: localization(c) for n, c in circ.items()}).T.rename_axis('model').to_csv(d/'localization.csv')
    prompts = jbb_prompts(STEER_N)
    for n in (BASE, ALIGNED[0]):                   # random neurons, the circuit's per-layer counts: a content-shift floor
        circ[f'random-{n}'] = random_circuit(circ[n], seed=0)
    plan = [(BASE, BASE), (BASE, f'random-{BASE}'), (BASE, ALIGNED[0]), (CONTROL, CONTROL), (CONTROL, ALIGNED[0]),
            (ALIGNED[0], ALIGNED[0]), (ALIGNED[0], f'random-{ALIGNED[0]}')]
    for model, c in plan:
        f = d/f'steer__{model}__{c}.jsonl'
        if f.exists(): continue
        t0 = time.time()
        df = steering_table({model: loaded[model]}, circ[c], prompts).assign(circuit=c)
        df.to_json(f.with_suffix('.partial'), orient='records', lines=True); f.with_suffix('.partial').rename(f)
        print(f"steered {model} with the circuit of {c}: {time.time() - t0:.0f} s", flush=True)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('part', choices=['builds', 'behaviour', 'sample', 'protocol'])
    ap.add_argument('models', nargs='*', help="behaviour only: the models to measure (default: base, control, aligned)")
    ap.add_argument('--out', type=Path, default=OUT, help=f"results folder (default {OUT})")
    a = ap.parse_args()
    if a.models and a.part != 'behaviour':
        ap.error(f"{a.part} takes no model names (got {' '.join(a.models)}): it measures {', '.join(MODELS)}")
    unknown = [m for m in a.models if m not in MODELS]
    if unknown: ap.error(f"unknown model {unknown[0]!r}: choose from {', '.join(MODELS)}")
    OUT = a.out
    print(machine(), flush=True)
    {'behaviour': behaviour, 'protocol': protocol, 'builds': builds, 'sample': sample}[a.part](*([a.models] if a.models else []))
