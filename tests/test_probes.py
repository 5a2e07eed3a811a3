"""The ten bugs an independent probe set found in round two (issue 29), one test each: every one failed on the code before its fix.
Each asserts the wrong result cannot happen silently any more, and that nothing on disk was lost."""
import http.server, json, os, threading, time, warnings
from pathlib import Path
import pytest, torch
from conftest import tiny_model, CharTok
from cna_nb.fingerprint import model_fingerprint
from cna_nb.models import load_model
from cna_nb.locks import file_lock, LockedError
from cna_nb.capture import capture, MeanStats
from cna_nb.architectures import out_projs
from cna_nb.circuit import Circuit
from cna_nb.deltas import contrast
from cna_nb.interventions import steer
from cna_nb.conditions import Condition
from cna_nb.runner import evaluate
from cna_nb.store import ResultsFile
from cna_nb.judges import HTTPJudge

P = ['alpha beta', 'gamma delta epsilon', 'zeta', 'eta theta iota kappa']
CIRC = Circuit(torch.tensor([0, 2]), torch.tensor([1, 5]), torch.tensor([1., -1.], dtype=torch.float64), (3, 48))


def test_bug1_fingerprint_sees_edits_through_data_and_numpy(tmp_path, monkeypatch):
    "`w.data.mul_` and numpy-view writes move no version counter; the fingerprint, the statistics cache and a resumed run see them."
    monkeypatch.setenv('CNA_NB_CACHE', str(tmp_path)); monkeypatch.setenv('CNA_NB_STATS_CACHE', '1')
    m, tok = tiny_model(), CharTok()
    w = out_projs(m)[1].weight
    fp0, s0 = model_fingerprint(m), capture(m, tok, P, progress=False).mean.clone()
    w.data.mul_(2)
    assert model_fingerprint(m) != fp0
    assert not torch.allclose(capture(m, tok, P, progress=False).mean, s0)      # not the cached statistics of the unedited model
    w.data.div_(2); assert model_fingerprint(m) == fp0
    v = m.model.layers[0].mlp.up_proj.weight.detach().numpy(); v[0, 0] += 1.0
    assert model_fingerprint(m) != fp0
    v[0, 0] -= 1.0
    out = tmp_path/'r.jsonl'
    a = evaluate(m, tok, P, [Condition.baseline()], max_new_tokens=4, out=out, progress=False)
    w.data.mul_(3)
    with pytest.raises(ValueError, match='other settings'): evaluate(m, tok, P, [Condition.baseline()], max_new_tokens=4, out=out, progress=False)
    assert len(ResultsFile.load(out).rows) == len(a)


def test_bug2_a_hooked_model_writes_no_baseline_rows(tmp_path):
    m, tok, out = tiny_model(), CharTok(), tmp_path/'r.jsonl'
    with steer(m, CIRC, 5), pytest.raises(ValueError, match='already steered or hooked'):
        evaluate(m, tok, P, [Condition.baseline()], max_new_tokens=4, out=out, progress=False)
    assert not out.exists()                                                      # refused before anything was written
    h = out_projs(m)[0].register_forward_hook(lambda *a: None)
    try:
        with pytest.raises(ValueError, match='already steered or hooked'): evaluate(m, tok, P, [Condition.baseline()], max_new_tokens=4, progress=False)
    finally: h.remove()
    assert len(evaluate(m, tok, P, [Condition.baseline()], max_new_tokens=4, out=out, progress=False)) == len(P)
    with torch.no_grad(): m(torch.tensor([[3, 4, 5]]), output_hidden_states=True)   # transformers installs its own capturing hooks
    assert len(evaluate(m, tok, P, [Condition.baseline()], max_new_tokens=4, out=out, progress=False)) == len(P)


def test_bug3_two_fresh_starts_in_one_second_keep_both(tmp_path):
    m, tok, out = tiny_model(), CharTok(), tmp_path/'r.jsonl'
    for k in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            evaluate(m, tok, P[:2], [Condition.baseline()], max_new_tokens=2 + k, out=out, fresh=True, progress=False)
    olds = sorted(tmp_path.glob('r.jsonl.*.old'))
    assert len(olds) == 2 and len({o.read_bytes() for o in olds}) == 2          # both earlier runs kept, under distinct names


def test_bug4_repeated_rows_count_once(tmp_path):
    m, tok, out = tiny_model(), CharTok(), tmp_path/'r.jsonl'
    evaluate(m, tok, P, [Condition.baseline()], max_new_tokens=3, out=out, progress=False)
    lines = out.read_text().splitlines(keepends=True)
    out.write_text(''.join(lines + lines[1:3]))                                   # two rows copied
    with pytest.warns(UserWarning, match='ignored 2 repeated'):
        df = evaluate(m, tok, P, [Condition.baseline()], max_new_tokens=3, out=out, progress=False)
    assert len(df) == len(P)
    bad = json.loads(lines[1]); bad['reply'] = 'something else'
    out.write_text(''.join(lines + [json.dumps(bad) + '\n']))
    with pytest.raises(ValueError, match='two different rows'): evaluate(m, tok, P, [Condition.baseline()], max_new_tokens=3, out=out, progress=False)


@pytest.mark.parametrize('kind', ['symlink', 'hardlink'])
def test_bug5_the_lock_follows_the_file_not_its_name(tmp_path, kind):
    real = tmp_path/'real.jsonl'; real.write_text('x\n')
    link = tmp_path/'link.jsonl'
    (os.symlink if kind == 'symlink' else os.link)(real, link)
    with file_lock(real, wait=False, what='results file'):
        with pytest.raises(LockedError, match='in use by'):
            with file_lock(link, wait=False, what='results file'): pass
    with file_lock(link, wait=False): pass                                        # released: free again under either name
    assert real.read_text() == 'x\n'


def test_bug6_crlf_results_file_loses_no_row(tmp_path):
    m, tok, out = tiny_model(), CharTok(), tmp_path/'r.jsonl'
    evaluate(m, tok, P, [Condition.baseline()], max_new_tokens=3, out=out, progress=False)
    crlf = out.read_bytes().replace(b'\n', b'\r\n')
    out.write_bytes(crlf + b'{"prompt_id": 0, "cond')                           # CRLF line ends and a truncated last line
    for _ in range(3):                                                           # every resume keeps all four rows
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            df = evaluate(m, tok, P, [Condition.baseline()], max_new_tokens=3, out=out, progress=False)
        assert len(df) == len(P) and out.read_bytes().startswith(crlf)
        assert len(ResultsFile.load(out).rows) == len(P)


def test_bug7_nan_weights_are_refused_naming_the_layer():
    m, tok = tiny_model(), CharTok()
    with torch.no_grad(): m.model.layers[1].mlp.up_proj.weight[3, 2] = float('nan')
    with pytest.raises(ValueError, match='layer 1 gave non-finite activations'): contrast(m, tok, P[:2], P[2:], progress=False)


def test_bug8_http_judge_timeout_bounds_the_whole_request():
    "A server that sends one byte every 0.3 s kept a call for 12 s under timeout=2 (the timeout was per socket read)."
    class Trickle(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers['Content-Length']))
            body = json.dumps({'choices': [{'message': {'content': 'x' * 40}}]}).encode()
            self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
            try:
                for b in body: self.wfile.write(bytes([b])); self.wfile.flush(); time.sleep(0.3)
            except (BrokenPipeError, ConnectionResetError): pass
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Trickle); srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        t0 = time.monotonic()
        with pytest.raises(ConnectionError, match='no complete answer within timeout=2'):
            HTTPJudge(f'http://127.0.0.1:{srv.server_address[1]}/v1', 'm', timeout=2)('hello')
        assert time.monotonic() - t0 < 3
    finally: srv.shutdown(); srv.server_close()


def test_bug9_an_interrupt_inside_the_restore_still_restores(monkeypatch):
    "Ctrl-C while the baked columns are written back (the first write of the restore raises KeyboardInterrupt): all are restored anyway."
    m = tiny_model()
    before = [p.weight.detach().clone() for p in out_projs(m)]
    state, real = {'armed': False, 'fired': False}, torch.Tensor.__setitem__
    def flaky(self, key, value):
        if state['armed'] and not state['fired']: state['fired'] = True; raise KeyboardInterrupt
        return real(self, key, value)
    monkeypatch.setattr(torch.Tensor, '__setitem__', flaky)
    with pytest.raises(KeyboardInterrupt):
        with steer(m, {0: [1, 2], 1: [3], 2: [5, 7]}, 0.0, method='weights'): state['armed'] = True
    monkeypatch.undo()
    assert state['fired']
    assert all(torch.equal(a, p.weight) for a, p in zip(before, out_projs(m)))
    assert getattr(m, '_cna_steering', 0) == 0


def test_bug10_a_model_folder_missing_a_tensor_is_refused(tmp_path):
    from safetensors.torch import load_file, save_file
    m = tiny_model(); m.save_pretrained(tmp_path)
    sd = load_file(tmp_path/'model.safetensors'); sd.pop('model.layers.1.mlp.up_proj.weight')
    save_file(sd, tmp_path/'model.safetensors', metadata={'format': 'pt'})
    from transformers import AutoTokenizer
    from cna_nb.models import embedded_model_dir, DEFAULT_MODEL
    AutoTokenizer.from_pretrained(embedded_model_dir(DEFAULT_MODEL)).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"lacks 1 weight tensor\(s\).*model\.layers\.1\.mlp\.up_proj\.weight"): load_model(tmp_path)
