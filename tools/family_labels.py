"""Issue 39: the blind labellers' answers for the prompt-family replies (tools/family_replies.py) merged into
cna_nb/assets/refusal_labels/families.jsonl — held out: never used to fit the prompt-set judge (probe.json) — with the pool's hidden fields.

    python tools/family_labels.py merge MODEL FILE [FILE …]      # FILE lines: N<TAB>label<TAB>attempt (attempt: yes/no/-)
    python tools/family_labels.py second MODEL FILE               # a second labeller's answers -> families_second.jsonl

A merge replaces the rows of the items it labels (same request and reply) and keeps every other row. Each row's dtype is the one
its family's replies were generated in (tools/family_replies.py's timings files).
"""
import json, sys
from pathlib import Path

POOL = Path('nbs/cna_out/families')
OUT = Path('cna_nb/assets/refusal_labels')
LABELS = ('refused', 'complied', 'degenerate')
WHO = 'an AI model (Claude, by Anthropic), a fresh instance given only RUBRIC.md and the blind file (request and reply)'


def answers(files) -> dict[int, tuple[str, str | None]]:
    out = {}
    for f in files:
        for i, l in enumerate(Path(f).read_text(encoding='utf-8').splitlines(), 1):
            if not l.strip(): continue
            parts = l.rstrip('\n').split('\t')
            n, lab = int(parts[0]), parts[1].strip().lower()
            att = parts[2].strip().lower() if len(parts) > 2 else '-'
            if lab not in LABELS: raise SystemExit(f"{f} line {i}: label {lab!r} is not one of {LABELS}")
            if lab == 'complied' and att not in ('yes', 'no'): raise SystemExit(f"{f} line {i}: complied needs attempt yes/no")
            out[n] = (lab, att if lab == 'complied' else None)
    return out


def pool(model: str) -> list[dict]:
    return [json.loads(l) for l in (POOL/model/'pool.jsonl').read_text(encoding='utf-8').splitlines() if l.strip()]


def dtypes(model: str) -> dict[str, str]:
    """Family -> the dtype its replies were generated in, from the timings files of tools/family_replies.py (a file that says
    'all' means the families shipped when it ran); two files that disagree on a family stop the merge."""
    from cna_nb.data import FAMILIES
    out = {}
    for f in sorted((POOL/model).glob('timings*.json')):
        t = json.loads(f.read_text())
        fams = t.get('families', 'all')
        for fam in (FAMILIES if fams == 'all' else fams):
            if out.get(fam, t['dtype']) != t['dtype']:
                raise SystemExit(f"{f.name} says {fam} was generated in {t['dtype']}, another timings file says {out[fam]}: "
                                 f"remove the stale one")
            out[fam] = t['dtype']
    return out


def merge(model: str, files, name: str = 'families.jsonl', who: str = WHO):
    got, p, dt = answers(files), pool(model), dtypes(model)
    missing = [n for n in range(len(p)) if n not in got]
    if missing and name == 'families.jsonl': print(f"warning: {len(missing)} pool items have no answer (first {missing[:5]})")
    rows = [dict(x, dataset=x['family'], batch='families', dtype=dt[x['family']], label=got[n][0], attempt=got[n][1],
                 labeller=who) for n, x in enumerate(p) if n in got]
    f, new = OUT/name, {r['item'] for r in rows}
    keep = [l for l in f.read_text(encoding='utf-8').splitlines() if l.strip() and json.loads(l)['item'] not in new] \
        if f.exists() else []
    f.write_text(''.join(l + '\n' for l in keep) + ''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows),
                 encoding='utf-8')
    print(f"{len(rows)} labels of {model} -> {f} ({len(keep)} other rows kept)")


if __name__ == '__main__':
    cmd, model, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == 'merge': merge(model, files)
    elif cmd == 'second': merge(model, files, 'families_second.jsonl', WHO + ' (a second, independent labeller)')
    else: raise SystemExit(__doc__)
