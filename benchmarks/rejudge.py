"""Re-derive kept `cna run` summaries from their stored replies with the current verdicts (issue 26): the probe judge as the primary
refusal verdict, the keyword list beside it, quality by the current rule (replies too short to judge left out, counted in `short`).
No reply is regenerated: every number is a function of the stored (prompt, reply) pairs.

    python benchmarks/rejudge.py benchmarks/results/cna_run/xeon-amx_f32_b64 [DIR …]

Rewrites DIR/summary.csv (same rows and order; `neurons`, `max_new_tokens` kept) and DIR/results.csv.gz (both verdicts per reply), and
prints the judge's id and how many verdicts moved.
"""
import gzip, io, sys
from pathlib import Path
import pandas as pd


def main(dirs):
    from cna_nb.probe import default_judge
    from cna_nb.runner import with_verdicts
    from cna_nb.summary import summarize
    judge = default_judge()
    for d in map(Path, dirs):
        df = pd.read_csv(d/'results.csv.gz', keep_default_na=False, na_values={'quality': ['']})
        old = pd.read_csv(d/'summary.csv')
        new = with_verdicts(df.drop(columns=['refused']), judge)
        summ = summarize(new).merge(old[['condition', 'neurons', 'max_new_tokens']], on='condition')
        summ = summ.set_index('condition').loc[old.condition].reset_index()
        summ.to_csv(d/'summary.csv', index=False)
        buf = io.StringIO(); new.to_csv(buf, index=False)
        (d/'results.csv.gz').write_bytes(gzip.compress(buf.getvalue().encode(), mtime=0))
        moved = int((new.verdict != new.keyword_verdict).sum())
        print(f"{d.name}: judge {judge.id}, {len(new)} replies, {moved} verdicts differ from the keyword list's; refusal "
              + ', '.join(f"{r.condition} {r.refusal:.0%} (keyword {r.keyword_refusal:.0%})" for r in summ.itertuples()))


if __name__ == '__main__':
    if len(sys.argv) < 2: raise SystemExit(__doc__)
    main(sys.argv[1:])
