"""Issue 39's first out-of-family replies: one embedded model's replies to the shipped prompt families (`cna_nb.data.FAMILIES`,
every second request of each: 30 per family, all six languages of `other_languages`) under five conditions — baseline, CNA m = 0 at
the 0.1% and 0.5% circuits, the 0.1% circuit's random twin, CAA α = 1 — through the package's one runner (one stage per family,
resumable, the probe judge and the keyword list beside each reply). Then a blind view of every distinct (request, reply) pair for
labellers who see nothing else.

    python tools/family_replies.py MODEL          # -> nbs/cna_out/families/MODEL/<family>.jsonl, timings.json
    python tools/family_replies.py MODEL blind    # -> nbs/cna_out/families/MODEL/pool.jsonl and blind_<k>.txt (4 parts)
    python tools/family_replies.py MODEL pack     # -> benchmarks/results/families/MODEL.jsonl.gz: every reply, kept

The model runs in the dtype `auto` picks on this machine (recorded in timings.json with the machine).
"""
import hashlib, json, sys, time
from pathlib import Path

OUT = Path('nbs/cna_out/families')
CONDITIONS = ['baseline', 'CNA m=0', 'CNA m=0, 0.5%', 'random m=0', 'CAA α=1']


def experiment(model_name: str):
    from cna_nb.models import load_model
    from cna_nb.data import FAMILIES, load_family
    from cna_nb.experiment import Experiment, Settings, Stage
    from cna_nb.protocol import discover
    from cna_nb.conditions import Condition, standard_conditions
    model, tok = load_model(model_name)
    out = OUT/model_name; out.mkdir(parents=True, exist_ok=True)
    e = discover(Experiment(model, tok, Settings(batch_size=32), out))
    core = standard_conditions(e.circuit, e.contrast.exclude, e.rc, dirablate=False)     # baseline, CNA, random, CAA
    conds = core[:3] + [Condition.cna(e.contrast.circuit(0.005), m=0, label='CNA m=0, 0.5%'), core[3]]
    assert sorted(c.label for c in conds) == sorted(CONDITIONS), [c.label for c in conds]
    e.stages = [Stage(f, f"the {f} family, every second request", f, lambda e, c=conds: c,
                      prompts=lambda e, f=f: load_family(f)[::2], file=f'{f}.jsonl') for f in FAMILIES]
    return e


def generate(model_name: str):
    import torch
    from cna_nb.experiment import run
    from cna_nb.reproduce import machine
    e = experiment(model_name); t0 = time.time()
    res = run(e)
    made = sum(df.attrs.get('made', 0) for df in res.values())
    (OUT/model_name/'timings.json').write_text(json.dumps(dict(seconds=round(time.time() - t0, 1), made=made,
        dtype=str(e.model.dtype).replace('torch.', ''), machine=machine(), conditions=CONDITIONS), indent=1))
    print(f"{made} replies made in {time.time() - t0:.0f} s ({str(e.model.dtype)})")


def blind(model_name: str, parts: int = 4):
    "Every distinct (request, reply) pair, shuffled by hash, split in `parts` blind files: N<TAB>request<TAB>reply."
    from cna_nb.store import ResultsFile
    from cna_nb.labels import item_id
    d, pool, seen = OUT/model_name, [], set()
    for f in sorted(d.glob('*.jsonl')):
        if f.name == 'pool.jsonl': continue
        for r in ResultsFile.load(f).rows:
            i = item_id(r['prompt'], r['reply'])
            if i in seen: continue
            seen.add(i)
            pool.append(dict(item=i, family=f.stem, model=model_name, condition=r['condition'], condition_id=r['condition_id'],
                             prompt_hash=r['prompt_hash'], prompt=r['prompt'], reply=r['reply'],
                             judge_verdict=r.get('judge_verdict'), keyword_verdict=r.get('keyword_verdict')))
    pool.sort(key=lambda x: hashlib.sha256(x['item'].encode()).hexdigest())
    (d/'pool.jsonl').write_text(''.join(json.dumps(x, ensure_ascii=False) + '\n' for x in pool))
    clean = lambda s: ' '.join(s.split())
    for k in range(parts):
        rows = [f"{n}\t{clean(x['prompt'])}\t{clean(x['reply'])}" for n, x in enumerate(pool) if n % parts == k]
        (d/f'blind_{k}.txt').write_text('\n'.join(rows) + '\n')
    print(f"{len(pool)} distinct pairs -> {d/'pool.jsonl'}, blind_0..{parts - 1}.txt")


def pack(model_name: str):
    "Every reply of every family (the results files' rows, a `family` column added) into one gzipped JSONL, kept in the repo."
    import gzip
    from cna_nb.store import ResultsFile
    d, rows = OUT/model_name, []
    for f in sorted(d.glob('*.jsonl')):
        if f.name == 'pool.jsonl': continue
        rows += [dict(r, family=f.stem) for r in ResultsFile.load(f).rows]
    out = Path('benchmarks/results/families')/f'{model_name}.jsonl.gz'; out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.compress(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows).encode(), mtime=0))
    print(f"{len(rows)} replies -> {out} ({out.stat().st_size // 1024} kB)")


if __name__ == '__main__':
    name = sys.argv[1] if len(sys.argv) > 1 else 'qwen2.5-coder-0.5b-instruct'
    {'blind': blind, 'pack': pack}.get((sys.argv[2:] or [''])[0], generate)(name)
