"""Bad inputs and faults, table-driven, through the CLI and the Python API: each must end in one clear error that names the bad value or
the fix (exit code 2 and no traceback in the CLI), and no file that was on disk before may be lost or changed."""
import hashlib, math, os, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd, pytest, torch
from conftest import tiny_model, CharTok
from cna_nb.cli import main
from cna_nb.circuit import Circuit, random_circuit
from cna_nb.deltas import select_top, n_select
from cna_nb.deltas import contrast, residual_contrast, ResidualContrast
from cna_nb.prompts import PromptFormat
from cna_nb.capture import capture
from cna_nb.decoding import generate
from cna_nb.interventions import steer, caa_steer, direction_ablation
from cna_nb.conditions import Condition, parse_condition
from cna_nb.circuit import find_circuit
from cna_nb.universal import find_universal
from cna_nb.runner import evaluate
from cna_nb.store import ResultsFile
from cna_nb.judges import HTTPJudge, LocalJudge
from cna_nb.mmlu import mmlu_eval

# ---------------------------------------------------------------- the workspace every case runs in (and must leave intact)

@pytest.fixture(scope='module')
def ws(tmp_path_factory, tiny_dirs):
    "A folder with a real tiny circuit, prompt files good and bad, and a results file of an earlier experiment."
    d = tmp_path_factory.mktemp('ws')
    (d/'pos.txt').write_text('\n'.join(f'bad request number {i}' for i in range(6)) + '\n')
    (d/'neg.txt').write_text('\n'.join(f'kind request number {i}' for i in range(6)) + '\n')
    (d/'empty.txt').write_text('\n\n')
    (d/'latin.txt').write_bytes('café au lait\n'.encode('latin-1'))
    (d/'bad.jsonl').write_text('{"prompt": "ok"}\n{"prompt": \n')
    (d/'nofield.jsonl').write_text('{"question": "ok"}\n')
    (d/'garbage.pt').write_bytes(b'\x00\x01 not a torch file')
    torch.save({'something': 'else'}, d/'foreign.pt')
    c = Circuit(torch.tensor([0, 2]), torch.tensor([1, 5]), torch.tensor([1., -1.], dtype=torch.float64), (3, 48), {'fingerprint': 'x'})
    c.save(d/'circ.pt')
    Circuit(torch.tensor([0]), torch.tensor([1]), torch.tensor([1.], dtype=torch.float64), (5, 48)).save(d/'other_shape.pt')
    m = tiny_model()
    evaluate(m, CharTok(), ['p one', 'p two'], [Condition.cna(c, m=0)], max_new_tokens=2, out=d/'old.jsonl', progress=False)
    return d


def snapshot(d: Path) -> dict:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob('*')) if p.is_file() and not p.name.endswith('.lock')}

# ---------------------------------------------------------------- CLI: (argv, words the one-line error must contain)

NUMERIC = [  # flag, bad values, subcommand prefix
    ('--limit', ['0', '-1'], ['run']), ('--max-new-tokens', ['0', '-5'], ['run']), ('--batch-size', ['0', '-2'], ['run']),
    ('--frac', ['0', '-0.1', '2', 'nan', 'inf'], ['run']), ('--m', ['nan', 'inf', '-inf'], ['run']), ('--caa-alpha', ['nan', 'inf'], ['run']),
    ('--frac', ['0', '1.5', 'nan'], ['discover', '--positive', 'pos.txt', '--negative', 'neg.txt']),
    ('--k', ['0', '-3'], ['discover', '--positive', 'pos.txt', '--negative', 'neg.txt']),
    ('--batch-size', ['0'], ['discover', '--positive', 'pos.txt', '--negative', 'neg.txt']),
    ('--limit', ['0', '-1'], ['eval']), ('--batch-size', ['0', '-1'], ['eval']), ('--max-new-tokens', ['0'], ['eval']),
    ('--m', ['nan', 'inf'], ['steer', '--circuit', 'circ.pt', '--prompt', 'hi']), ('--max-new-tokens', ['0', '-1'], ['steer', '--circuit', 'circ.pt', '--prompt', 'hi']),
]
CLI = [(pre + [f'{flag}={v}'], f'{flag} ') for flag, vals, pre in NUMERIC for v in vals]
CLI += [(['eval', '--conditions', 'baseline', spec], msg) for spec, msg in [
    ('cna=0', 'write baseline, cna:m='), ('caa:m=1', 'write baseline'), ('cna:m=x', 'not a number'), ('cna:m=nan', 'finite'),
    ('random:m=inf', 'finite'), ('wobble', 'write baseline'), ('random:alpha=', 'write baseline'), ('dirablate:m=1', 'write baseline'),
    (':m=0', 'write baseline'), ('cna:', 'write baseline'), ('CNA:m=0', 'write baseline'), ('caa:alpha=one', 'not a number')]]
CLI += [
    (['eval', '--conditions', 'cna:m=0'], 'need --circuit'), (['eval', '--conditions', 'random:m=0'], 'need --circuit'),
    (['eval', '--conditions', 'cna:m=0', '--circuit', 'missing.pt'], 'not found'),
    (['eval', '--out', 'r.jsonl'], 'must end in .csv'), (['eval', '--out', 'r.txt'], 'must end in .csv'),
    (['eval', '--conditions', 'baseline', '--prompts', 'missing.txt'], 'not found'), (['eval', '--conditions', 'baseline', '--prompts', 'empty.txt'], 'holds no prompts'),
    (['eval', '--conditions', 'baseline', '--prompts', 'latin.txt'], 'not UTF-8'), (['eval', '--conditions', 'baseline', '--prompts', 'bad.jsonl'], 'line 2 is not valid JSON'),
    (['eval', '--conditions', 'baseline', '--prompts', 'nofield.jsonl'], "needs a 'prompt' field"),
    (['eval', '--conditions', 'caa:alpha=1', '--positive', 'missing.txt'], 'not found'),
    (['discover', '--positive', 'missing.txt', '--negative', 'neg.txt'], 'not found'),
    (['discover', '--positive', 'pos.txt', '--negative', 'empty.txt'], 'holds no prompts'),
    (['discover', '--positive', 'latin.txt', '--negative', 'neg.txt'], 'not UTF-8'),
    (['discover', '--positive', 'pos.txt', '--negative', 'neg.txt', '--universal', 'missing.txt'], 'not found'),
    (['discover', '--positive', 'pos.txt', '--negative', 'neg.txt', '--out', 'c.json'], 'must end in .pt'),
    (['discover', '--positive', 'pos.txt', '--negative', 'neg.txt', '--out', 'circ'], 'must end in .pt'),
    (['steer', '--circuit', 'missing.pt', '--prompt', 'hi'], 'not found'),
    (['prepare', '--model', 'no-such-model'], 'unknown embedded model'),
]
MODEL_CLI = [   # these load the tiny model first (the check needs it)
    (['steer', '--circuit', 'garbage.pt', '--prompt', 'hi'], 'is not a cna_nb circuit file'),
    (['steer', '--circuit', 'foreign.pt', '--prompt', 'hi'], 'is not a cna_nb circuit file'),
    (['steer', '--circuit', 'other_shape.pt', '--prompt', 'hi'], 'rediscover the circuit'),
    (['eval', '--conditions', 'cna:m=0', '--circuit', 'garbage.pt', '--prompts', 'pos.txt'], 'is not a cna_nb circuit file'),
    (['steer', '--circuit', 'circ.pt', '--prompt', 'hi', '--model', '/nonexistent/model'], 'could not load'),
]
ARGPARSE = [['run', '--limit', 'ten'], ['run', '--frac', 'half'], ['steer', '--prompt', 'x'], ['dance'], ['eval', '--batch-size', '1.5'],
            ['steer', '--circuit', 'c.pt', '--prompt', 'x', '--batch-size', '4'], ['discover', '--positive', 'a'], ['steer', '--circuit', 'c.pt', '--prompt', 'x', '--method', 'magic']]


@pytest.mark.parametrize('argv, msg', CLI + MODEL_CLI, ids=lambda x: ' '.join(x) if isinstance(x, list) else None)
def test_cli_bad_input(argv, msg, ws, tiny_dirs, monkeypatch, capsys):
    monkeypatch.chdir(ws)
    loads = (argv, msg) in MODEL_CLI
    if loads and '--model' not in argv: argv = argv + ['--model', str(tiny_dirs[0])]
    before = snapshot(ws)
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()              # one line; a model that loaded first may have said so on the line before
    assert msg in lines[-1] and lines[-1].startswith('cna ') and 'Traceback' not in err and (len(lines) == 1 or loads), err
    assert snapshot(ws) == before


@pytest.mark.parametrize('argv', ARGPARSE, ids=' '.join)
def test_cli_unparseable_input_is_a_usage_error(argv, ws, monkeypatch, capsys):
    monkeypatch.chdir(ws)
    before = snapshot(ws)
    with pytest.raises(SystemExit) as e: main(argv)
    assert e.value.code == 2 and 'error:' in capsys.readouterr().err and snapshot(ws) == before

# ---------------------------------------------------------------- the API: (call, exception, words the message must contain)

M, T = tiny_model(), CharTok()
C = Circuit(torch.tensor([0, 2]), torch.tensor([1, 5]), torch.tensor([1., -1.], dtype=torch.float64), (3, 48))
RC = ResidualContrast(torch.randn(3, 32, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
def enter(cm): cm.__enter__()

API = [
    ('evaluate one string', lambda: evaluate(M, T, 'a prompt', [Condition.baseline()]), TypeError, 'wrap one prompt as [prompt]'),
    ('evaluate None', lambda: evaluate(M, T, None, [Condition.baseline()]), TypeError, 'wrap one prompt'),
    ('evaluate numbers', lambda: evaluate(M, T, [1, 2], [Condition.baseline()]), TypeError, 'list of strings'),
    ('evaluate no prompts', lambda: evaluate(M, T, [], [Condition.baseline()]), ValueError, 'at least one prompt'),
    ('evaluate no conditions', lambda: evaluate(M, T, ['x'], []), ValueError, 'at least one condition'),
    ('evaluate dict', lambda: evaluate(M, T, ['x'], {'b': None}), TypeError, 'Condition values'),
    ('evaluate None condition', lambda: evaluate(M, T, ['x'], [None]), TypeError, 'Condition values'),
    ('evaluate same labels', lambda: evaluate(M, T, ['x'], [Condition.cna(C, m=0), Condition.cna(C, m=0.5, label='CNA m=0')]), ValueError, 'share a label'),
    ('evaluate empty prompt', lambda: evaluate(M, T, ['x', ''], [Condition.baseline()], max_new_tokens=2), ValueError, 'prompt 1 is empty'),
    ('generate 0 tokens', lambda: generate(M, T, ['x'], max_new_tokens=0), ValueError, 'max_new_tokens must be a whole number >= 1, got 0'),
    ('generate batch 0', lambda: generate(M, T, ['x'], batch_size=0), ValueError, 'batch_size must be a whole number >= 1, got 0'),
    ('generate None prompt', lambda: generate(M, T, ['x', None]), TypeError, 'prompt 1 is None'),
    ('generate too long', lambda: generate(tiny_model('gpt2'), T, ['y' * 200]), ValueError, 'context of 128'),
    ('capture no prompts', lambda: capture(M, T, []), ValueError, 'at least one prompt'),
    ('capture None', lambda: capture(M, T, None), ValueError, 'at least one prompt'),
    ('capture bad site', lambda: capture(M, T, ['x'], site='attn'), ValueError, "site must be 'mlp'"),
    ('capture batch 0', lambda: capture(M, T, ['x'], batch_size=0), ValueError, 'batch_size must be a whole number >= 1, got 0'),
    ('capture empty prompt', lambda: capture(M, T, ['x', '']), ValueError, 'prompt 1 is empty'),
    ('capture too long', lambda: capture(tiny_model('gpt2'), T, ['y' * 200]), ValueError, 'context of 128'),
    ('steer nan', lambda: enter(steer(M, C, float('nan'))), ValueError, 'm must be a finite number'),
    ('steer inf', lambda: enter(steer(M, C, float('inf'))), ValueError, 'finite'),
    ('steer method', lambda: enter(steer(M, C, 0, method='magic')), ValueError, "method must be 'hook' or 'weights'"),
    ('steer layer', lambda: enter(steer(M, {7: [0]})), ValueError, 'layer 7 out of range'),
    ('steer neuron', lambda: enter(steer(M, {0: [48]})), ValueError, 'neuron index out of range'),
    ('steer negative neuron', lambda: enter(steer(M, {0: [-1]})), ValueError, 'neuron index out of range'),
    ('steer triple', lambda: enter(steer(M, [(0, 1, 2)])), TypeError, '(layer, neuron) pairs'),
    ('steer other shape', lambda: enter(steer(tiny_model(intermediate_size=64), C)), ValueError, 'rediscover the circuit'),
    ('cna no strength', lambda: Condition.cna(C), ValueError, 'exactly one of m'),
    ('cna both', lambda: Condition.cna(C, m=0, alpha=1), ValueError, 'exactly one of m'),
    ('cna inf', lambda: Condition.cna(C, m=float('inf')), ValueError, 'finite'),
    ('cna nan alpha', lambda: Condition.cna(C, alpha=float('nan')), ValueError, 'finite'),
    ('cna dict', lambda: Condition.cna({0: [1]}, m=0), TypeError, 'needs a Circuit'),
    ('cna method', lambda: Condition.cna(C, m=0, method='x'), ValueError, "method must be"),
    ('random nan', lambda: Condition.random(C, m=float('nan')), ValueError, 'finite'),
    ('random too many', lambda: Condition.random(Circuit(torch.arange(1).repeat(48), torch.arange(48), torch.zeros(48, dtype=torch.float64), (3, 48)), m=0), ValueError, 'free neurons'),
    ('caa circuit', lambda: Condition.caa(C), TypeError, 'needs a ResidualContrast'),
    ('caa nan', lambda: Condition.caa(RC, alpha=float('nan')), ValueError, 'alpha must be a finite number'),
    ('dirablate circuit', lambda: Condition.dirablate(C), TypeError, 'needs a ResidualContrast'),
    ('dirablate inf', lambda: Condition.dirablate(RC, alpha=float('inf')), ValueError, 'finite'),
    ('custom not callable', lambda: Condition.custom('x', 3, 'k'), TypeError, 'factory must be a callable'),
    ('caa_steer nan', lambda: enter(caa_steer(M, RC, float('nan'))), ValueError, 'finite'),
    ('caa_steer layers', lambda: enter(caa_steer(M, RC, 1.0, layers=[0, 9])), ValueError, 'layer 9 out of range'),
    ('caa_steer shape', lambda: enter(caa_steer(M, ResidualContrast(RC.diff[:2], RC.rms[:2]), 1.0)), ValueError, 'compute it on this model'),
    ('dirablate shape', lambda: enter(direction_ablation(M, torch.ones(7))), ValueError, 'shape (32,)'),
    ('dirablate nan', lambda: enter(direction_ablation(M, torch.ones(32), float('nan'))), ValueError, 'finite'),
    ('parse no circuit', lambda: parse_condition('cna:m=0'), ValueError, 'needs a circuit'),
    ('parse no contrast', lambda: parse_condition('caa:alpha=1'), ValueError, 'needs a residual contrast'),
    ('parse old syntax', lambda: parse_condition('cna=0', C), ValueError, 'cna:m=<m>'),
    ('find_circuit frac 0', lambda: find_circuit(M, T, ['a b'], ['c d'], frac=0, universal=None, progress=False), ValueError, 'frac must be in (0, 1]'),
    ('find_circuit frac 2', lambda: find_circuit(M, T, ['a b'], ['c d'], frac=2, universal=None, progress=False), ValueError, 'frac must be in (0, 1]'),
    ('find_circuit k 0', lambda: find_circuit(M, T, ['a b'], ['c d'], k=0, universal=None, progress=False), ValueError, 'k must be between 1 and 144'),
    ('find_circuit k big', lambda: find_circuit(M, T, ['a b'], ['c d'], k=1000, universal=None, progress=False), ValueError, 'k must be between 1 and 144'),
    ('find_circuit universal', lambda: find_circuit(M, T, ['a b'], ['c d'], universal='everything'), ValueError, "universal must be 'auto'"),
    ('find_circuit string', lambda: find_circuit(M, T, 'a b', ['c d'], universal=None), TypeError, 'lists of prompts'),
    ('find_universal top', lambda: find_universal(M, T, ['a'], top_frac=0), ValueError, 'top_frac must be in (0, 1)'),
    ('find_universal share', lambda: find_universal(M, T, ['a'], min_share=1.5), ValueError, 'min_share must be in (0, 1]'),
    ('select_top mask', lambda: select_top(torch.zeros(3, 4), k=1, exclude=torch.zeros(2, 4, dtype=torch.bool)), ValueError, 'exclude mask shape'),
    ('n_select frac', lambda: n_select((3, 48), frac=float('nan')), ValueError, 'frac must be in (0, 1]'),
    ('format template', lambda: PromptFormat('chatty'), ValueError, "template must be 'auto', 'chat', 'raw'"),
    ('format system', lambda: PromptFormat(system=3), TypeError, 'system must be a string'),
    ('format chat without template', lambda: PromptFormat('chat').texts(T, ['x']), ValueError, "use template='raw'"),
    ('http scheme', lambda: HTTPJudge('localhost:8000', 'm'), ValueError, 'must start with http'),
    ('http credentials', lambda: HTTPJudge('http://u:secret@localhost:8000/v1', 'm'), ValueError, 'pass the key as api_key'),
    ('http unreachable', lambda: HTTPJudge('http://127.0.0.1:9/v1', 'm', timeout=3)('x'), ConnectionError, 'unreachable'),
    ('local judge mode', lambda: LocalJudge(M, T, mode='fast'), ValueError, "'constrained' or 'generate'"),
    ('mmlu callable format', lambda: mmlu_eval(M, T, fmt=lambda p: p), ValueError, "fmt='auto', 'chat' or 'raw'"),
    ('contrast shapes', lambda: __import__('cna_nb.deltas', fromlist=['x']).contrastive_delta(capture(M, T, ['a'], cache=False), capture(M, T, ['a'], site='resid', cache=False)), ValueError, 'same model and site'),
]


@pytest.mark.parametrize('call, exc, msg', [a[1:] for a in API], ids=[a[0] for a in API])
def test_api_bad_input(call, exc, msg):
    with pytest.raises(exc) as e: call()
    assert msg in str(e.value), str(e.value)


FILES = [   # files on disk: the call must fail with the message and leave every file as it was
    ('circuit garbage', lambda d: Circuit.load(d/'garbage.pt'), 'is not a cna_nb circuit file'),
    ('circuit foreign', lambda d: Circuit.load(d/'foreign.pt'), 'is not a cna_nb circuit file'),
    ('circuit missing', lambda d: Circuit.load(d/'nope.pt'), 'not found'),
    ('circuit other shape', lambda d: Circuit.load(d/'other_shape.pt', model=M), 'rediscover the circuit'),
    ('save over manifest', lambda d: Circuit.load(d/'circ.pt').save(d/'circ.json'), 'must end in .pt'),
    ('results of another experiment', lambda d: evaluate(M, T, ['p one', 'p two'], [Condition.cna(random_circuit(C), m=0, label='CNA m=0')],
                                                        max_new_tokens=2, out=d/'old.jsonl', progress=False), 'another experiment'),
    ('results other settings', lambda d: evaluate(M, T, ['p one', 'p two'], [Condition.baseline()], max_new_tokens=3, out=d/'old.jsonl', progress=False), 'other settings'),
    ('results other prompts', lambda d: evaluate(M, T, ['p two', 'p one'], [Condition.cna(Circuit.load(d/'circ.pt'), m=0)], max_new_tokens=2,
                                                 out=d/'old.jsonl', progress=False), 'another prompt'),
]


@pytest.mark.parametrize('call, msg', [f[1:] for f in FILES], ids=[f[0] for f in FILES])
def test_files_are_never_lost(call, msg, ws):
    before = snapshot(ws)
    with pytest.raises(ValueError) as e: call(ws)
    assert msg in str(e.value) and snapshot(ws) == before


def test_the_suite_is_large_enough():
    assert len(CLI) + len(MODEL_CLI) + len(ARGPARSE) + len(API) + len(FILES) >= 100

# ---------------------------------------------------------------- faults: a killed run, two writers, a stale cache

def _eval_argv(model_dir, d, out='ev/eval.csv', prompts='pos.txt'):
    return [str(Path(sys.executable).parent/'cna'), 'eval', '--model', str(model_dir), '--prompts', str(d/prompts), '--max-new-tokens', '48',
            '--batch-size', '1', '--conditions', 'baseline', 'cna:m=0', '--circuit', str(d/'circ.pt'), '--out', str(d/out)]


def test_sigkill_then_resume_equals_an_uninterrupted_run(ws, tiny_dirs, tmp_path):
    env = {**os.environ, 'HF_HUB_OFFLINE': '1'}
    argv = _eval_argv(tiny_dirs[0], ws, 'killed/eval.csv')
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    jsonl = ws/'killed'/'eval.jsonl'
    t0 = time.time()
    while time.time() - t0 < 120 and (not jsonl.exists() or len(jsonl.read_text().splitlines()) < 4): time.sleep(0.002)
    p.send_signal(signal.SIGKILL); p.wait()
    n_killed = len(jsonl.read_text().splitlines()) - 1
    assert 0 < n_killed < 12, n_killed                               # killed in the middle
    assert subprocess.run(argv, env=env, capture_output=True).returncode == 0   # the lock left by the killed process is taken over
    ref = subprocess.run(_eval_argv(tiny_dirs[0], ws, 'whole/eval.csv'), env=env, capture_output=True)
    assert ref.returncode == 0
    a, b = pd.read_csv(ws/'killed'/'eval.csv'), pd.read_csv(ws/'whole'/'eval.csv')
    pd.testing.assert_frame_equal(a, b)
    assert len(jsonl.read_text().splitlines()) == 1 + 12               # nothing duplicated


def test_two_writers_on_one_output(ws, tiny_dirs, capsys):
    "While one process writes a results file, a second writer (here in this process) is refused with one line naming the first."
    env = {**os.environ, 'HF_HUB_OFFLINE': '1'}
    (ws/'many.txt').write_text('\n'.join(f'request number {i} with a few more words' for i in range(16)) + '\n')
    argv = _eval_argv(tiny_dirs[0], ws, 'two/eval.csv', 'many.txt')
    first = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = ws/'two'/'eval.jsonl.lock'
    t0 = time.time()
    while time.time() - t0 < 120 and not (lock.exists() and lock.read_text().strip()): time.sleep(0.01)
    code = main(argv[1:])
    err = capsys.readouterr().err
    first.wait()
    assert code == 2 and f'in use by process {first.pid}' in err and 'Traceback' not in err, err
    assert first.returncode == 0 and len((ws/'two'/'eval.jsonl').read_text().splitlines()) == 1 + 32   # the first writer's rows are whole


def test_stale_statistics_are_never_used_after_an_edit(tmp_path, monkeypatch):
    "A low-rank update merged into every MLP changes the fingerprint, so the statistics cache recomputes: δ follows the edited weights."
    monkeypatch.setenv('CNA_NB_CACHE', str(tmp_path)); monkeypatch.setenv('CNA_NB_STATS_CACHE', '1')
    m, tok, pos, neg = tiny_model(), CharTok(), ['bad a', 'bad b thing'], ['good a', 'good b thing']
    before = contrast(m, tok, pos, neg, progress=False).delta
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for layer in m.model.layers:
            w = layer.mlp.up_proj.weight
            w += 0.05 * torch.randn(w.shape[0], 4, generator=g) @ torch.randn(4, w.shape[1], generator=g)   # rank-4 merge
    after = contrast(m, tok, pos, neg, progress=False).delta
    fresh = contrast(m, tok, pos, neg, progress=False).delta
    monkeypatch.setenv('CNA_NB_STATS_CACHE', '0')
    uncached = contrast(m, tok, pos, neg, progress=False).delta
    assert not torch.equal(before, after) and torch.allclose(after, uncached, atol=1e-6) and torch.equal(after, fresh)


def test_a_rerun_with_another_circuit_never_overwrites_the_folder(tmp_path):
    "`cna run --frac 0.05` then `--frac 0.02` into one folder: the second is refused before circuit.pt (which the replies were made with) changes."
    from cna_nb.ablation import refusal_experiment
    m, tok, out = tiny_model(), CharTok(), tmp_path/'exp'
    pos, neg, prompts = ['bad a thing', 'bad b thing', 'bad c'], ['good a thing', 'good b thing', 'good c'], ['do it', 'do that now']
    refusal_experiment(m, tok, pos, neg, prompts, frac=0.05, max_new_tokens=2, caa_alpha=None, out_dir=out, progress=False)
    before = snapshot(out)
    with pytest.raises(ValueError, match='another experiment.*--fresh'):
        refusal_experiment(m, tok, pos, neg, prompts, frac=0.02, max_new_tokens=2, caa_alpha=None, out_dir=out, progress=False)
    assert snapshot(out) == before
    res = refusal_experiment(m, tok, pos, neg, prompts, frac=0.02, max_new_tokens=2, caa_alpha=None, out_dir=out, fresh=True, progress=False)
    assert Circuit.load(out/'circuit.pt').neurons.tolist() == res['circuit'].neurons.tolist() and list(out.glob('replies.jsonl.*.old'))
