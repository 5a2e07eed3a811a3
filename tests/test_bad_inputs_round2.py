"""Bad inputs, round two (issue 29's 'poor handling' families and our own probes), table-driven like test_bad_inputs.py: each case ends
in one clear line that names the bad value or the fix (CLI: exit code 2, no traceback), and every file that was on disk is still there,
byte for byte."""
import errno, hashlib, http.server, json, os, signal, subprocess, sys, threading, time, warnings
from pathlib import Path
import pytest, torch
from conftest import tiny_model, CharTok
from cna_nb.cli import main
from cna_nb.prompts import read_prompts
from cna_nb.circuit import Circuit
from cna_nb.deltas import n_select
from cna_nb.deltas import contrast
from cna_nb.capture import capture
from cna_nb.architectures import out_projs
from cna_nb.decoding import generate
from cna_nb.interventions import steer
from cna_nb.conditions import Condition
from cna_nb.circuit import find_circuit
from cna_nb.runner import evaluate
from cna_nb.store import ResultsFile
from cna_nb.judges import HTTPJudge
from cna_nb.mmlu import mmlu_eval

M, T = tiny_model(), CharTok()
C = Circuit(torch.tensor([0, 2]), torch.tensor([1, 5]), torch.tensor([1., -1.], dtype=torch.float64), (3, 48))
def enter(cm): cm.__enter__()
def snapshot(d: Path) -> dict:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob('*')) if p.is_file() and not p.name.endswith('.lock')}

# ---------------------------------------------------------------- prompt files that are read as they should be (no error)

READ = [   # name, bytes, the prompts
    ('bom.txt', b'\xef\xbb\xbffirst\nsecond\n', ['first', 'second']),
    ('u2028.txt', 'a\u2028b\nc\n'.encode(), ['a\u2028b', 'c']),
    ('formfeed.txt', b'a\x0cb\nc\n', ['a\x0cb', 'c']),
    ('fs.txt', b'a\x1cb\n', ['a\x1cb']),
    ('nel.txt', 'a\x85b\n'.encode(), ['a\x85b']),
    ('crlf.txt', b'a\r\nb\r\n', ['a', 'b']),
    ('no_final_newline.txt', b'a\nb', ['a', 'b']),
    ('old_mac.txt', b'a\rb\r', ['a', 'b']),
    ('bom.csv', b'\xef\xbb\xbfprompt\nx\n', ['x']),
    ('id_text.csv', b'id,text\n1,hello\n2,world\n', ['hello', 'world']),
    ('id_prompt.csv', b'id,prompt\n1,hello\n', ['hello']),
    ('one_column.csv', b'question\nwhy\n', ['why']),
    ('na_words.csv', b'prompt\nNA\nnull\nNaN\n', ['NA', 'null', 'NaN']),
    ('digits.csv', b'prompt\n007\n', ['007']),
    ('bom.jsonl', b'\xef\xbb\xbf{"prompt": "x"}\n', ['x']),
    ('text.jsonl', b'{"text": "y"}\n', ['y']),
    ('crlf.jsonl', b'{"prompt": "x"}\r\n{"prompt": "y"}\r\n', ['x', 'y']),
    ('u2028.jsonl', '{"prompt": "a\u2028b"}\n'.encode(), ['a\u2028b']),
]


@pytest.mark.parametrize('name, data, want', READ, ids=[r[0] for r in READ])
def test_prompt_files_are_read_as_written(name, data, want, tmp_path):
    (tmp_path/name).write_bytes(data)
    assert read_prompts(tmp_path/name) == want

# ---------------------------------------------------------------- CLI: (argv, words the one-line error must contain)

BAD_FILES = {   # prompt files that must be refused, and the words of the refusal
    'ids_only.csv': (b'id,label\n1,a\n', "none named 'prompt'"),
    'num.jsonl': (b'{"prompt": 5}\n', 'must be a string, got int'),
    'list.jsonl': (b'{"prompt": ["a"]}\n', 'must be a string, got list'),
    'null.jsonl': (b'{"prompt": null}\n', 'must be a string, got NoneType'),
    'obj.jsonl': (b'{"prompt": {"a": 1}}\n', 'must be a string, got dict'),
    'bool.jsonl': (b'{"prompt": true}\n', 'must be a string, got bool'),
    'array.jsonl': (b'["a"]\n', "needs a 'prompt' field"),
    'latin.csv': ('prompt\ncafé\n'.encode('latin-1'), 'not UTF-8'),
    'latin.jsonl': ('{"prompt": "café"}\n'.encode('latin-1'), 'not UTF-8'),
    'binary.txt': (b'\xff\xfe\x00\x01\x02', 'not UTF-8'),
    'empty.csv': (b'', 'not a readable CSV'),
    'header_only.csv': (b'prompt\n', 'holds no prompts'),
    'blank.jsonl': (b'\n\n', 'holds no prompts'),
    'spaces.txt': (b'   \n\t\n', 'holds no prompts'),
    'ragged.csv': (b'prompt\na,b,c\n', 'not a readable CSV'),
}
CLI2 = [(['eval', '--conditions', 'baseline', '--prompts', f], msg) for f, (_, msg) in BAD_FILES.items()]
CLI2 += [(['discover', '--positive', f, '--negative', 'neg.txt'], msg) for f, (_, msg) in list(BAD_FILES.items())[:4]]
CLI2 += [
    (['run', '--seed', str(2**70)], '--seed'), (['eval', '--seed', '-1'], '--seed'), (['eval', '--seed', str(2**63)], '--seed'),
    (['run', '--caa-alpha', '-inf'], '--caa-alpha'), (['run', '--m', '-inf'], '--m'), (['run', '--m', '-nan'], '--m'),
    (['eval', '--max-new-tokens', '-1'], '--max-new-tokens'), (['run', '--frac', '-1e-3'], '--frac'),
    (['steer', '--circuit', 'circ.pt', '--prompt', 'caf\udce9'], 'not UTF-8'),
    (['steer', '--circuit', 'circ.pt', '--prompt', '\ud800'], 'not UTF-8'),
]


@pytest.fixture(scope='module')
def ws2(tmp_path_factory):
    d = tmp_path_factory.mktemp('ws2')
    for f, (data, _) in BAD_FILES.items(): (d/f).write_bytes(data)
    (d/'neg.txt').write_text('kind request\n')
    C.save(d/'circ.pt')
    return d


@pytest.mark.parametrize('argv, msg', CLI2, ids=lambda x: ' '.join(x).encode('ascii', 'replace').decode() if isinstance(x, list) else None)
def test_cli_bad_input_round2(argv, msg, ws2, monkeypatch, capsys):
    monkeypatch.chdir(ws2)
    before = snapshot(ws2)
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0] and lines[0].startswith('cna ') and 'Traceback' not in err, err
    assert snapshot(ws2) == before

# ---------------------------------------------------------------- the API

def _nan_model():
    m = tiny_model()
    with torch.no_grad(): m.model.layers[2].mlp.up_proj.weight[0, 0] = float('nan')
    return m
def _inf_model():
    m = tiny_model()
    with torch.no_grad(): m.model.layers[0].mlp.down_proj.weight[0, 0] = float('inf')
    return m
def _hooked_eval(f):
    with steer(M, C, 2): return f()

API2 = [
    ('n_select k float', lambda: n_select((3, 48), k=1.5), ValueError, 'whole number of neurons, got 1.5'),
    ('n_select k bool', lambda: n_select((3, 48), k=True), ValueError, 'whole number of neurons, got True'),
    ('n_select k str', lambda: n_select((3, 48), k='5'), ValueError, 'whole number'),
    ('find_circuit k float', lambda: find_circuit(M, T, ['a b'], ['c d'], k=2.5, universal=None, progress=False), ValueError, 'whole number'),
    ('steer None', lambda: enter(steer(M, None)), TypeError, 'neurons must be a Circuit'),
    ('steer string', lambda: enter(steer(M, 'abc')), TypeError, 'neurons must be a Circuit'),
    ('steer int', lambda: enter(steer(M, 5)), TypeError, 'neurons must be a Circuit'),
    ('steer m None', lambda: enter(steer(M, C, None)), ValueError, 'm must be a finite number'),
    ('steer m str', lambda: enter(steer(M, C, '0')), ValueError, 'm must be a finite number'),
    ('steer m bool', lambda: enter(steer(M, C, True)), ValueError, 'm must be a finite number'),
    ('steer float neuron', lambda: enter(steer(M, {0: [1.7]})), ValueError, 'whole numbers, got 1.7'),
    ('steer float pair', lambda: enter(steer(M, [(0, 1.5)])), ValueError, 'whole number, got 1.5'),
    ('steer float layer', lambda: enter(steer(M, {0.5: [1]})), ValueError, 'whole number, got 0.5'),
    ('generate tokens float', lambda: generate(M, T, ['x'], max_new_tokens=2.5), ValueError, 'max_new_tokens must be a whole number'),
    ('generate tokens bool', lambda: generate(M, T, ['x'], max_new_tokens=True), ValueError, 'max_new_tokens must be a whole number'),
    ('generate batch float', lambda: generate(M, T, ['x'], batch_size=1.5), ValueError, 'batch_size must be a whole number'),
    ('evaluate batch 0', lambda: evaluate(M, T, ['x'], [Condition.baseline()], batch_size=0), ValueError, 'batch_size must be a whole number'),
    ('evaluate tokens float', lambda: evaluate(M, T, ['x'], [Condition.baseline()], max_new_tokens=2.5), ValueError, 'max_new_tokens must be'),
    ('evaluate while steered', lambda: _hooked_eval(lambda: evaluate(M, T, ['x'], [Condition.baseline()])), ValueError, 'already steered'),
    ('mmlu while steered', lambda: _hooked_eval(lambda: mmlu_eval(M, T)), ValueError, 'already steered'),
    ('circuit duplicates', lambda: Circuit(torch.tensor([0, 0, 1]), torch.tensor([1, 1, 2]), torch.zeros(3, dtype=torch.float64), (3, 48)),
     ValueError, '(layer 0, neuron 1) more than once'),
    ('contrast nan weights', lambda: contrast(_nan_model(), T, ['a b'], ['c d'], progress=False), ValueError, 'layer 2 gave non-finite'),
    ('capture inf weights', lambda: capture(_inf_model(), T, ['a b'], cache=False, progress=False), ValueError, 'non-finite activations'),
]


@pytest.mark.parametrize('call, exc, msg', [a[1:] for a in API2], ids=[a[0] for a in API2])
def test_api_bad_input_round2(call, exc, msg):
    with pytest.raises(exc) as e: call()
    assert msg in str(e.value), str(e.value)
    assert not getattr(M, '_cna_steering', 0) and not any(p._forward_pre_hooks for p in out_projs(M))

# ---------------------------------------------------------------- HTTPJudge against a misbehaving local server

class _Stub(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        kind = self.path.split('/')[1]
        if kind.isdigit():                                   # an HTTP status
            self.send_response(int(kind))
            if 300 <= int(kind) < 400: self.send_header('Location', self.path if kind == '302' and 'loop' in self.path else '/ok/v1/chat/completions')
            self.end_headers(); return
        body = {'text': b'hello, not json', 'bytes': b'\xff\xfe\x00', 'number': json.dumps({'choices': [{'message': {'content': 5}}]}).encode(),
                'nolist': json.dumps({'choices': {}}).encode(), 'ok': json.dumps({'choices': [{'message': {'content': 'fine'}}]}).encode(),
                'short': b'{"choices": ['}[kind]
        self.send_response(200)
        self.send_header('Content-Length', str(len(body) + (100 if kind == 'short' else 0))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass


@pytest.fixture(scope='module')
def stub():
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Stub); srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown(); srv.server_close()

HTTP = [   # path, exception, words
    ('text', RuntimeError, 'are not JSON'), ('bytes', RuntimeError, 'are not JSON'), ('number', RuntimeError, 'returned a int as the message content'),
    ('nolist', RuntimeError, 'did not return an OpenAI chat completion'), ('short', ConnectionError, 'broken HTTP answer'),
    ('500', RuntimeError, "HTTP 500: the server failed"), ('503', RuntimeError, 'HTTP 503: the server failed'),
    ('429', RuntimeError, 'HTTP 429: the server is rate-limiting'), ('401', RuntimeError, 'HTTP 401: check the api_key'),
    ('403', RuntimeError, 'HTTP 403: check the api_key'), ('404', RuntimeError, 'HTTP 404: check the URL'),
    ('302', RuntimeError, 'redirected (HTTP 302)'), ('307', RuntimeError, 'redirected (HTTP 307)'), ('308', RuntimeError, 'redirected (HTTP 308)'),
    ('302/loop', RuntimeError, 'redirected (HTTP 302)'), ('301', RuntimeError, 'redirected (HTTP 301)'),
]


@pytest.mark.parametrize('path, exc, msg', HTTP, ids=[h[0] for h in HTTP])
def test_http_judge_bad_answers(path, exc, msg, stub):
    j = HTTPJudge(f'{stub}/{path}/v1', 'm', api_key='sk-secret', timeout=5)
    with pytest.raises(exc) as e: j('hello')
    assert msg in str(e.value) and 'sk-secret' not in str(e.value), str(e.value)
    assert HTTPJudge(f'{stub}/ok/v1', 'm', timeout=5)('hello') == 'fine'

# ---------------------------------------------------------------- files: results, circuits, caches

def _results(d: Path) -> Path:
    out = d/'r.jsonl'
    if not out.exists(): evaluate(M, T, ['p one', 'p two', 'p three'], [Condition.baseline()], max_new_tokens=2, out=out, progress=False)
    return out

RESULTS = [   # name, how the file is damaged (bytes → bytes), words of the refusal
    ('no header', lambda b: b.split(b'\n', 1)[1], 'not a cna_nb results file'),
    ('binary', lambda b: b'\x00\xff\xfe garbage \x01', 'not a cna_nb results file'),
    ('header not json', lambda b: b'{"_meta": \n' + b.split(b'\n', 1)[1], 'not a cna_nb results file'),
    ('row is a list', lambda b: b + b'[1, 2]\n', 'is not a results row'),
    ('row without ids', lambda b: b + b'{"reply": "x"}\n', 'is not a results row'),
    ('broken middle line', lambda b: b.replace(b'\n', b'\n{oops\n', 2).replace(b'\n{oops\n', b'\n', 1), 'is not valid JSON'),
    ('two different rows', lambda b: b + b.split(b'\n')[1].replace(b'"reply": "', b'"reply": "other ') + b'\n', 'two different rows'),
]


@pytest.mark.parametrize('name, damage, msg', RESULTS, ids=[r[0] for r in RESULTS])
def test_damaged_results_files_are_refused_and_kept(name, damage, msg, tmp_path):
    out = _results(tmp_path)
    out.write_bytes(damage(out.read_bytes()))
    before = snapshot(tmp_path)
    with pytest.raises(ValueError) as e:
        evaluate(M, T, ['p one', 'p two', 'p three'], [Condition.baseline()], max_new_tokens=2, out=out, progress=False)
    assert msg in str(e.value) and str(out) in str(e.value), str(e.value)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize('tail', [b'\n', b'\n\n', b'\r\n', b'   \n'], ids=['blank', 'two blank', 'crlf blank', 'spaces'])
def test_trailing_blank_lines_are_not_a_crash(tail, tmp_path):
    out = _results(tmp_path)
    out.write_bytes(out.read_bytes() + tail)
    with warnings.catch_warnings():
        warnings.simplefilter('error')                                     # no "truncated last line" warning either
        df = evaluate(M, T, ['p one', 'p two', 'p three'], [Condition.baseline()], max_new_tokens=2, out=out, progress=False)
    assert len(df) == 3


def test_a_save_cut_between_its_two_files_is_recognised(tmp_path, monkeypatch):
    "Killed after the .pt was renamed but before the manifest was: the old manifest is recognised and written again from the .pt."
    p = tmp_path/'c.pt'
    C.save(p); old_manifest = (tmp_path/'c.json').read_text()
    other = Circuit(torch.tensor([1]), torch.tensor([3]), torch.tensor([2.], dtype=torch.float64), (3, 48))
    real, calls = os.replace, []
    def cut(a, b):
        calls.append(b)
        if str(b).endswith('.json'): raise KeyboardInterrupt          # the process dies between the two renames
        real(a, b)
    monkeypatch.setattr(os, 'replace', cut)
    with pytest.raises(KeyboardInterrupt): other.save(p)
    monkeypatch.undo()
    assert (tmp_path/'c.json').read_text() == old_manifest
    with pytest.warns(UserWarning, match='did not belong to c.pt'): c = Circuit.load(p)
    assert len(c) == 1 and json.loads((tmp_path/'c.json').read_text())['n'] == 1
    assert not list(tmp_path.glob('*.tmp'))


def test_temporary_files_of_a_killed_save_are_removed(tmp_path):
    p = tmp_path/'c.pt'
    dead = subprocess.Popen([sys.executable, '-c', 'pass']); dead.wait()
    for t in (f'c.pt.{dead.pid}.tmp', f'c.json.{dead.pid}.tmp'): (tmp_path/t).write_bytes(b'half')
    (tmp_path/f'c.pt.{os.getpid()}.x.tmp').write_bytes(b'not ours to judge')
    C.save(p)
    assert sorted(t.name for t in tmp_path.glob('*.tmp')) == [f'c.pt.{os.getpid()}.x.tmp']


def test_saving_through_a_symlink_keeps_the_link(tmp_path):
    (tmp_path/'real').mkdir(); target = tmp_path/'real'/'c.pt'
    C.save(target)
    link = tmp_path/'link.pt'; link.symlink_to(target)
    other = Circuit(torch.tensor([1]), torch.tensor([3]), torch.tensor([2.], dtype=torch.float64), (3, 48))
    other.save(link)
    assert link.is_symlink() and len(Circuit.load(link)) == 1 and len(Circuit.load(target)) == 1


def test_a_copied_statistics_entry_is_not_used(tmp_path, monkeypatch):
    "An entry file copied under another entry's name (other prompts) is recognised, discarded and recomputed."
    monkeypatch.setenv('CNA_NB_CACHE', str(tmp_path)); monkeypatch.setenv('CNA_NB_STATS_CACHE', '1')
    a = capture(M, T, ['one prompt'], progress=False).mean
    b = capture(M, T, ['another, longer prompt'], progress=False).mean
    from cna_nb.capture import stats_path, MeanStats
    from cna_nb.prompts import as_format
    ea, eb = (stats_path(M, as_format(None).texts(T, [q]), 'mlp', MeanStats()) for q in ('one prompt', 'another, longer prompt'))
    eb.write_bytes(ea.read_bytes())                                        # entry b now holds a's numbers
    with pytest.warns(UserWarning, match='was written for entry'):
        again = capture(M, T, ['another, longer prompt'], progress=False).mean
    assert torch.equal(again, b) and not torch.equal(again, a)


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes into read-only folders')
def test_read_only_statistics_cache_is_not_fatal(tmp_path, monkeypatch):
    (tmp_path/'stats').mkdir(); os.chmod(tmp_path/'stats', 0o500); os.chmod(tmp_path, 0o500)
    monkeypatch.setenv('CNA_NB_CACHE', str(tmp_path)); monkeypatch.setenv('CNA_NB_STATS_CACHE', '1')
    try:
        with pytest.warns(UserWarning, match='CNA_NB_STATS_CACHE=0'): capture(M, T, ['x y'], progress=False)
    finally: os.chmod(tmp_path, 0o700); os.chmod(tmp_path/'stats', 0o700)


@pytest.mark.parametrize('err', [errno.ENOSPC, errno.EROFS, errno.EACCES], ids=['disk full', 'read-only', 'no permission'])
def test_a_statistics_cache_that_cannot_be_written_is_not_fatal(err, tmp_path, monkeypatch):
    "Disk full or read-only while the entry is stored: a warning that names CNA_NB_STATS_CACHE=0, the statistics, nothing left behind."
    monkeypatch.setenv('CNA_NB_CACHE', str(tmp_path)); monkeypatch.setenv('CNA_NB_STATS_CACHE', '1')
    real = torch.save
    def full(obj, f, *a, **k):
        if str(f).endswith('.tmp'): raise OSError(err, os.strerror(err))
        return real(obj, f, *a, **k)
    monkeypatch.setattr(torch, 'save', full)
    with pytest.warns(UserWarning, match='CNA_NB_STATS_CACHE=0'): s = capture(M, T, ['x y'], progress=False)
    assert s.n == 1 and not list((tmp_path/'stats').glob('*.tmp')) and not list((tmp_path/'stats').glob('*.pt'))


def test_ctrl_c_in_the_cli_is_one_line_and_keeps_the_rows(tmp_path, tiny_dirs):
    "SIGINT during `cna eval`: no traceback, a line that says the rows are kept, exit 130; the rerun resumes them."
    (tmp_path/'p.txt').write_text('\n'.join(f'prompt number {i}' for i in range(200)) + '\n')
    C.save(tmp_path/'c.pt')
    argv = [str(Path(sys.executable).parent/'cna'), 'eval', '--model', str(tiny_dirs[0]), '--prompts', str(tmp_path/'p.txt'),
            '--max-new-tokens', '48', '--batch-size', '1', '--conditions', 'baseline', '--out', str(tmp_path/'e.csv')]
    env = {**os.environ, 'CNA_NB_STATS_CACHE': '0'}
    # a shell that starts jobs in the background hands them SIGINT ignored: give the child Ctrl-C back
    p = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    rows = tmp_path/'e.jsonl'
    for _ in range(600):                                                   # wait for a few rows, then Ctrl-C
        if rows.exists() and rows.read_text().count('\n') >= 4: break
        time.sleep(0.1)
    p.send_signal(signal.SIGINT); err = p.communicate(timeout=60)[1]
    assert p.returncode == 130 and 'Traceback' not in err and 'interrupted; what was written so far is kept' in err, err
    kept = ResultsFile.load(rows).rows
    assert 3 <= len(kept) < 200
    subprocess.run(argv, check=True, capture_output=True, env=env)
    assert {r['prompt_id'] for r in kept} <= {r['prompt_id'] for r in ResultsFile.load(rows).rows} and len(ResultsFile.load(rows).rows) == 200


def test_a_model_folder_missing_a_tensor_is_one_line_in_the_cli(tmp_path, tiny_dirs, capsys):
    import shutil
    from safetensors.torch import load_file, save_file
    d = tmp_path/'broken'; shutil.copytree(tiny_dirs[0], d)
    sd = load_file(d/'model.safetensors'); sd.pop('model.layers.0.mlp.down_proj.weight'); save_file(sd, d/'model.safetensors', metadata={'format': 'pt'})
    C.save(tmp_path/'c.pt')
    assert main(['steer', '--circuit', str(tmp_path/'c.pt'), '--prompt', 'hi', '--model', str(d)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert 'lacks 1 weight tensor(s)' in err[-1] and 'model.layers.0.mlp.down_proj.weight' in err[-1]


def test_the_round2_suite_is_large_enough():
    n = len(READ) + len(CLI2) + len(API2) + len(HTTP) + len(RESULTS) + len(MODEL_DIRS) + 4 + 3 + 11
    assert n >= 60, n


def test_a_locked_output_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    from cna_nb import ablation
    from cna_nb.locks import file_lock, LockedError
    monkeypatch.setattr(ablation, 'find_circuit', lambda *a, **k: pytest.fail('discovery ran before the lock was checked'))
    with file_lock(tmp_path/'exp', wait=False, what='output folder'):
        with pytest.raises(LockedError, match='output folder'):
            ablation.refusal_experiment(M, T, ['bad a'], ['good a'], ['do it'], max_new_tokens=2, caa_alpha=None, out_dir=tmp_path/'exp', progress=False)


def test_a_rerun_with_another_multiplier_is_refused_and_changes_nothing(tmp_path):
    "An interrupted `cna run` re-run with --m 0.5 into its folder: refused (it would replace the circuit's tables), --fresh moves it aside."
    from cna_nb.ablation import refusal_experiment
    out, args = tmp_path/'exp', (M, T, ['bad a thing', 'bad b'], ['good a thing', 'good b'], ['do it', 'do that'])
    refusal_experiment(*args, m=0.0, max_new_tokens=2, caa_alpha=None, out_dir=out, progress=False)
    before = snapshot(out)
    with pytest.raises(ValueError, match=r"another experiment \(settings \{'m': \(0.0, 0.5\)\}"):
        refusal_experiment(*args, m=0.5, max_new_tokens=2, caa_alpha=None, out_dir=out, progress=False)
    assert snapshot(out) == before
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        refusal_experiment(*args, m=0.5, max_new_tokens=2, caa_alpha=None, out_dir=out, fresh=True, progress=False)
    assert json.loads((out/'settings.json').read_text())['m'] == 0.5 and list(out.glob('settings.json.*.old'))


def _no(name): return lambda d: (d/name).unlink()
def _write(name, data): return lambda d: (d/name).write_bytes(data)
def _truncate(d):
    f = d/'model.safetensors'; f.write_bytes(f.read_bytes()[:len(f.read_bytes()) // 2])
def _other_shapes(d):
    tiny_model(intermediate_size=40).save_pretrained(d/'other'); (d/'other'/'model.safetensors').replace(d/'model.safetensors')

MODEL_DIRS = [   # how a copy of a good tiny model folder is damaged, words of the one line
    ('no config', _no('config.json'), 'has no readable config.json'),
    ('config not json', _write('config.json', b'{"model_type": '), 'has no readable config.json'),
    ('no tokenizer', lambda d: [(d/f).unlink() for f in ('tokenizer.json', 'tokenizer_config.json', 'vocab.json') if (d/f).exists()],
     'has no tokenizer files'),
    ('no weights', _no('model.safetensors'), 'has no weight files'),
    ('truncated weights', _truncate, 'could not be loaded'),
    ('weights of another shape', _other_shapes, 'could not be loaded'),
]


@pytest.mark.parametrize('damage, msg', [m[1:] for m in MODEL_DIRS], ids=[m[0] for m in MODEL_DIRS])
def test_damaged_model_folders_are_one_line(damage, msg, tmp_path, tiny_dirs, capsys):
    import shutil
    d = tmp_path/'model'; shutil.copytree(tiny_dirs[0], d); damage(d)
    C.save(tmp_path/'c.pt'); before = snapshot(tmp_path)
    assert main(['steer', '--circuit', str(tmp_path/'c.pt'), '--prompt', 'hi', '--model', str(d)]) == 2
    err = capsys.readouterr().err
    assert msg in err.strip().splitlines()[-1] and 'Traceback' not in err, err
    assert snapshot(tmp_path) == before


def test_a_model_path_naming_a_file_is_one_line(tmp_path, tiny_dirs, capsys):
    C.save(tmp_path/'c.pt')
    assert main(['steer', '--circuit', str(tmp_path/'c.pt'), '--prompt', 'hi', '--model', str(tiny_dirs[0]/'config.json')]) == 2
    assert 'is a file: pass the model' in capsys.readouterr().err.strip().splitlines()[-1]


def test_a_full_disk_during_a_circuit_save_is_one_line_and_replaces_nothing(tmp_path, monkeypatch):
    p = tmp_path/'c.pt'; C.save(p); before = snapshot(tmp_path)
    def full(*a, **k): raise RuntimeError('[enforce fail at inline_container.cc:626] . unexpected pos 64 vs 0 basic_ios::clear')
    monkeypatch.setattr(torch, 'save', full)
    with pytest.raises(OSError, match='the disk is full or the folder is not writable'): C.save(p)
    monkeypatch.undo()
    assert snapshot(tmp_path) == before and not list(tmp_path.glob('*.tmp'))
