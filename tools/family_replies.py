"""Issue 39's out-of-family replies: one embedded model's replies to the shipped prompt families (`cna_nb.data.FAMILIES`,
30 per family for the 0.5B (every second request, all six languages of `other_languages`), 6 for the 1.5B (every tenth, from
the second: requests the 0.5B never saw, since a 1.5B reply costs three 0.5B replies here; all ten families in one stage, so
batches are full)) under five conditions through the package's
one runner (one stage per family, resumable, the probe judge and the keyword list beside each reply). The two models cover the
issue's conditions between them: the 0.5B baseline, CNA m = 0 at the 0.1% and 0.5% circuits, the 0.1% circuit's random twin and
CAA α = 1; the 1.5B baseline, CNA m = 0 at 0.1% and 0.5%, CNA m = 2 (amplified) and directional ablation α = 1. Then a blind view
of every distinct (request, reply) pair for labellers who see nothing else.

    python tools/family_replies.py MODEL [FAMILY,…]   # -> nbs/cna_out/families/MODEL/<family>.jsonl, timings_<families>.json
    python tools/family_replies.py MODEL blind    # -> nbs/cna_out/families/MODEL/pool.jsonl and blind_<k>.txt (4 parts)
    python tools/family_replies.py MODEL pack     # -> benchmarks/results/families/MODEL.jsonl.gz: every reply, kept

The model runs in the dtype `auto` picks on this machine (recorded with the machine in timings_<families>.json).
"""
import hashlib, json, sys, time
from pathlib import Path

OUT = Path('nbs/cna_out/families')
CONDITIONS = {'qwen2.5-coder-0.5b-instruct': ['baseline', 'CNA m=0', 'CNA m=0, 0.5%', 'random m=0', 'CAA α=1'],
              'qwen2.5-coder-1.5b-instruct': ['baseline', 'CNA m=0', 'CNA m=0, 0.5%', 'CNA m=2', 'dirablate α=1']}
ONE_STAGE = {'qwen2.5-coder-1.5b-instruct'}
PICK = {'qwen2.5-coder-0.5b-instruct': slice(0, None, 2), 'qwen2.5-coder-1.5b-instruct': slice(1, None, 10)}


def experiment(model_name: str, families=None):
    from cna_nb.models import load_model
    from cna_nb.data import FAMILIES, load_family
    from cna_nb.experiment import Experiment, Settings, Stage
    from cna_nb.protocol import discover
    from cna_nb.conditions import Condition, standard_conditions
    model, tok = load_model(model_name)
    out = OUT/model_name; out.mkdir(parents=True, exist_ok=True)
    e = discover(Experiment(model, tok, Settings(batch_size=32), out))
    core = standard_conditions(e.circuit, e.contrast.exclude, e.rc)     # baseline, CNA, random, CAA, directional ablation
    wide = Condition.cna(e.contrast.circuit(0.005), m=0, label='CNA m=0, 0.5%')
    pick = {c.label: c for c in core + [wide, Condition.cna(e.circuit, m=2)]}
    conds = [pick[k] for k in CONDITIONS[model_name]]
    take, fams = PICK[model_name], list(families or FAMILIES)
    if model_name in ONE_STAGE:     # every family's requests in one stage: full batches (a decode step costs the same at 15 or 32)
        e.stages = [Stage('families', f"requests [{take.start}::{take.step}] of each family", 'families', lambda e, c=conds: c,
                          prompts=lambda e: [p for f in fams for p in load_family(f)[take]], file='families.jsonl')]
    else:
        e.stages = [Stage(f, f"the {f} family, requests [{take.start}::{take.step}]", f, lambda e, c=conds: c,
                          prompts=lambda e, f=f: load_family(f)[take], file=f'{f}.jsonl') for f in fams]
    return e


def family_of(path: Path, prompt: str) -> str:
    "The family a results row belongs to: its file's name, or for the one-stage file the family holding its request."
    if path.stem != 'families': return path.stem
    if not _OWNER:                      # request -> family, read once (the shipped families never share a request)
        from cna_nb.data import FAMILIES, load_family
        for f in FAMILIES:
            for p in load_family(f): _OWNER[p] = f
    if prompt not in _OWNER: raise SystemExit(f"{prompt[:60]!r} is in no shipped family: regenerate the results file")
    return _OWNER[prompt]


_OWNER: dict[str, str] = {}


def generate(model_name: str, families=None):
    import torch
    from cna_nb.experiment import run
    from cna_nb.reproduce import machine
    from cna_nb.data import FAMILIES
    e = experiment(model_name, families); t0 = time.time()
    res = run(e)
    made = sum(df.attrs.get('made', 0) for df in res.values())
    tag = 'all' if not families else '+'.join(families)
    (OUT/model_name/f'timings_{tag}.json').write_text(json.dumps(dict(seconds=round(time.time() - t0, 1), made=made,
        dtype=str(e.model.dtype).replace('torch.', ''), machine=machine(), conditions=CONDITIONS[model_name],
        families=list(families or FAMILIES)), indent=1))
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
            pool.append(dict(item=i, family=family_of(f, r['prompt']), model=model_name, condition=r['condition'], condition_id=r['condition_id'],
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
    """Every reply of every family (the results files' rows, a `family` column added) into one gzipped JSONL, kept in the repo;
    a family already packed and not made here is kept."""
    import gzip
    from cna_nb.store import ResultsFile
    d, rows = OUT/model_name, []
    for f in sorted(d.glob('*.jsonl')):
        if f.name == 'pool.jsonl': continue
        rows += [dict(r, family=family_of(f, r['prompt'])) for r in ResultsFile.load(f).rows]
    out = Path('benchmarks/results/families')/f'{model_name}.jsonl.gz'; out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():     # families packed before (e.g. in another dtype on another machine) and not regenerated here are kept
        made = {r['family'] for r in rows}
        old = [json.loads(l) for l in gzip.decompress(out.read_bytes()).decode().splitlines() if l.strip()]
        rows = [r for r in old if r['family'] not in made] + rows
    out.write_bytes(gzip.compress(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows).encode(), mtime=0))
    print(f"{len(rows)} replies -> {out} ({out.stat().st_size // 1024} kB)")


if __name__ == '__main__':
    name = sys.argv[1] if len(sys.argv) > 1 else 'qwen2.5-coder-0.5b-instruct'
    arg = (sys.argv[2:] or [''])[0]
    if arg in ('blind', 'pack'): {'blind': blind, 'pack': pack}[arg](name)
    else: generate(name, arg.split(',') if arg else None)
