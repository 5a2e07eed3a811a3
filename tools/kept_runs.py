"""The kept `cna reproduce` runs of the README: pack a finished run folder into benchmarks/results/reproduce/<model>/, or unpack it
back into a run folder that `cna reproduce` resumes (every row is there, so nothing is generated and the report is written again).

    python tools/kept_runs.py pack   qwen2.5-coder-1.5b-instruct   # nbs/cna_out/reproduce/<model> -> benchmarks/results/reproduce/<model>
    python tools/kept_runs.py unpack qwen2.5-coder-1.5b-instruct   # and back
    .venv/bin/cna reproduce --model qwen2.5-coder-1.5b-instruct --dtype float32 --profile paper --out nbs/cna_out/reproduce/<model>

Kept: the report (report.json, report.md, report.html, figures/), the settings and timings, the stability table and every results
file gzipped (replies of every condition, MMLU answers). The circuits are not kept: discovery makes them again from the weights.
"""
import gzip, shutil, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLAIN = ('reproduce.json', 'timings.jsonl', 'stability.csv', 'stability.json', 'report.json', 'report.md', 'report.html')


def pack(model: str):
    src, dst = ROOT/'nbs/cna_out/reproduce'/model, ROOT/'benchmarks/results/reproduce'/model
    if not (src/'report.json').exists(): raise SystemExit(f"{src} holds no finished run (no report.json): run cna reproduce first")
    (dst/'figures').mkdir(parents=True, exist_ok=True)
    for f in PLAIN:
        if (src/f).exists(): shutil.copy2(src/f, dst/f)
    for f in (src/'figures').glob('*.png'): shutil.copy2(f, dst/'figures'/f.name)
    for f in src.glob('*.jsonl'):
        if f.name == 'timings.jsonl': continue
        (dst/(f.name + '.gz')).write_bytes(gzip.compress(f.read_bytes(), mtime=0))
    print(f"packed {src} -> {dst}")


def unpack(model: str):
    src, dst = ROOT/'benchmarks/results/reproduce'/model, ROOT/'nbs/cna_out/reproduce'/model
    if not src.exists(): raise SystemExit(f"no kept run at {src}: known: {sorted(p.name for p in src.parent.iterdir())}")
    if dst.exists() and any(dst.iterdir()):
        raise SystemExit(f"{dst} is not empty: move it aside first (nothing is overwritten)")
    dst.mkdir(parents=True, exist_ok=True)
    for f in PLAIN:
        if (src/f).exists(): shutil.copy2(src/f, dst/f)
    for f in src.glob('*.jsonl.gz'): (dst/f.name[:-3]).write_bytes(gzip.decompress(f.read_bytes()))
    print(f"unpacked {src} -> {dst}")


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in ('pack', 'unpack'): raise SystemExit(__doc__)
    {'pack': pack, 'unpack': unpack}[sys.argv[1]](sys.argv[2])
