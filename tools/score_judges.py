"""Score replies with the model judges (RefusalJudge with each embedded model; StrongREJECT's LocalJudge with the 1.5B on JBB items),
resumably, into benchmarks/results/paper_scale/: refusal_judges.csv and strongreject_1.5b.csv, one row per item id.

    python tools/score_judges.py ITEMS.jsonl [ITEMS.jsonl …] [--no-strongreject] [--sr-minutes=M]   # files with item, dataset, prompt, reply

StrongREJECT judging is slow on a CPU (a long rubric per reply), so its JBB items are taken in a stratified order — round-robin over
(model, condition), a seeded hash order inside each — and written every 16 items; `--sr-minutes=M` stops after the chunk that passes M
minutes, leaving a balanced subset that a later run extends.
"""
import hashlib, json, sys, time
from pathlib import Path
import pandas as pd

RES = Path('benchmarks/results/paper_scale')
JUDGES = [('qwen2.5-coder-0.5b-instruct', '0.5B'), ('qwen2.5-coder-1.5b-instruct', '1.5B')]


def score(items: pd.DataFrame, res: Path=RES, strongreject: bool=True, sr_minutes: float|None=None):
    "Add the missing items' judge scores to the CSVs in `res` (items: item, dataset, prompt, reply)."
    from cna_nb.models import load_model
    from cna_nb.judges import RefusalJudge, LocalJudge, judge_replies
    res.mkdir(parents=True, exist_ok=True)
    rj_path, sr_path = res/'refusal_judges.csv', res/'strongreject_1.5b.csv'
    rj = pd.read_csv(rj_path) if rj_path.exists() else pd.DataFrame(columns=['item'])
    sr = pd.read_csv(sr_path) if sr_path.exists() else pd.DataFrame(columns=['item'])
    todo = items[~items.item.isin(rj.item)]
    todo_sr = items[(items.dataset == 'jbb') & ~items.item.isin(sr.item)] if strongreject else items.iloc[:0]
    if len(todo_sr):                                                  # stratified order: k-th of every (model, condition), then the (k+1)-th
        key = todo_sr.item.map(lambda i: hashlib.sha256(f'sr{i}'.encode()).hexdigest())
        rank = key.groupby([todo_sr[c] for c in ('model', 'condition') if c in todo_sr]).rank(method='first')
        todo_sr = todo_sr.assign(_r=rank, _k=key).sort_values(['_r', '_k']).drop(columns=['_r', '_k'])
    new, t = {'item': todo.item.tolist()}, {}
    for name, short in JUDGES:
        if not len(todo) and not (short == '1.5B' and len(todo_sr)): continue
        jm, jt = load_model(name)
        if len(todo):
            t0 = time.time()
            s = RefusalJudge(jm, jt, batch_size=8).scores(todo.prompt.tolist(), todo.reply.tolist())
            new.update({f'judge {short}': s.judge_verdict.tolist(), f'p_refused {short}': s.p_refused.tolist(), f'p_degenerate {short}': s.p_degenerate.tolist()})
            t[f'refusal judge {short}'] = time.time() - t0
            print(f'refusal judge {short}: {len(todo)} replies in {t[f"refusal judge {short}"]:.0f} s', flush=True)
            if short == JUDGES[-1][1]: pd.concat([rj, pd.DataFrame(new)], ignore_index=True).to_csv(rj_path, index=False)   # before StrongREJECT
        if short == '1.5B' and len(todo_sr):
            t0 = time.time(); judge, done = LocalJudge(jm, jt, batch_size=8), 0
            for i in range(0, len(todo_sr), 16):
                ch = todo_sr.iloc[i:i + 16]
                s = judge_replies(judge, ch.prompt.tolist(), ch.reply.tolist()).drop(columns=['sr_raw'])
                s.insert(0, 'item', ch.item.values)
                sr = pd.concat([sr, s], ignore_index=True); sr.to_csv(sr_path, index=False); done += len(ch)
                print(f'strongreject 1.5B: {done}/{len(todo_sr)} in {time.time() - t0:.0f} s', flush=True)
                if sr_minutes and time.time() - t0 > 60 * sr_minutes: break
            t['strongreject 1.5B'] = time.time() - t0; todo_sr = todo_sr.iloc[:done]
        del jm, jt
    out = dict(scored=len(todo), strongreject=len(todo_sr), seconds={k: round(v, 1) for k, v in t.items()}, when=time.strftime('%Y-%m-%d %H:%M:%S'))
    if t:
        with open(res/'judge_timings.jsonl', 'a') as f: f.write(json.dumps(out) + '\n')
    return out


if __name__ == '__main__':
    files = [a for a in sys.argv[1:] if not a.startswith('--')]
    items = pd.concat([pd.read_json(p, lines=True, dtype=False) for p in files], ignore_index=True)
    m = [float(a.split('=', 1)[1]) for a in sys.argv if a.startswith('--sr-minutes=')]
    print(score(items, strongreject='--no-strongreject' not in sys.argv, sr_minutes=m[0] if m else None), flush=True)
