"""The explorer through the Jupyter widget protocol, as JupyterLab drives it: a real IPython kernel, the widgets' comm messages, and a
button click sent as the frontend sends it (a comm message with a 'click' event). The reply panel must update while the kernel stays free
to answer other requests during generation."""
import queue, time
import pytest

jupyter_client = pytest.importorskip('jupyter_client')

SETUP = r'''
import threading, time, torch, transformers
from cna_nb.testing import CharTok
from cna_nb.circuit import Circuit
from cna_nb.explorer import Explorer
import cna_nb.runner as R   # the explorer generates through the runner
cfg = transformers.AutoConfig.for_model('qwen2', vocab_size=97, hidden_size=32, intermediate_size=48, num_hidden_layers=3,
                                        num_attention_heads=4, num_key_value_heads=2, pad_token_id=0)
torch.manual_seed(0); tm = transformers.AutoModelForCausalLM.from_config(cfg).eval()
circ = Circuit(torch.tensor([2, 2]), torch.tensor([1, 5]), torch.tensor([1., -1.], dtype=torch.float64), (3, 48))
_real = R.generate
def slow_generate(*a, **k): time.sleep(1.0); return _real(*a, **k)     # long enough to ask the kernel something meanwhile
R.generate = slow_generate
ex = Explorer(tm, CharTok(), {'toy': circ}, prompt='hello there', max_new_tokens=6)
ex.strength.value = 3.0
print('BUTTON', ex.button.model_id, 'OUTPUT', ex.output.model_id)
ex
'''


def _until_idle(kc, msg_id, timeout=120):
    "iopub messages up to the kernel's idle status for request `msg_id`."
    seen, end = [], time.time() + timeout
    while time.time() < end:
        try: m = kc.get_iopub_msg(timeout=1)
        except queue.Empty: continue
        seen.append(m)
        if m['msg_type'] == 'status' and m['content']['execution_state'] == 'idle' and m['parent_header'].get('msg_id') == msg_id: return seen
    raise AssertionError(f'no idle status for {msg_id}; saw {[m["msg_type"] for m in seen[-10:]]}')


def _text(msgs): return ''.join(m['content'].get('text', '') for m in msgs if m['msg_type'] == 'stream')


def test_click_through_the_widget_protocol():
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name='python3')
    try:
        msgs = _until_idle(kc, kc.execute(SETUP))
        errors = [m['content'] for m in msgs if m['msg_type'] == 'error']
        assert not errors, errors
        opened = [m for m in msgs if m['msg_type'] == 'comm_open' and m['content'].get('target_name') == 'jupyter.widget']
        assert len(opened) >= 8                                  # the panel's widgets were created on the frontend's side
        words = _text(msgs).split()
        button, output = words[words.index('BUTTON') + 1], words[words.index('OUTPUT') + 1]
        # the frontend's click: a comm message to the button's model
        kc.shell_channel.send(kc.session.msg('comm_msg', {'comm_id': button, 'data': {'method': 'custom', 'content': {'event': 'click'}}}))
        time.sleep(0.3)
        t0 = time.time()
        during = _until_idle(kc, kc.execute("print('STATE', ex.busy, ex.button.disabled, ex.button.description)"))
        assert time.time() - t0 < 1.5, 'the kernel did not answer while generating'
        assert 'STATE True True Generating…' in _text(during), _text(during)
        # the reply panel is updated through the widget protocol
        end, html = time.time() + 60, ''
        msgs = during
        while time.time() < end and 'baseline' not in html:
            try: m = kc.get_iopub_msg(timeout=1)
            except queue.Empty: continue
            if m['msg_type'] == 'comm_msg' and m['content']['comm_id'] == output and m['content']['data'].get('method') == 'update':
                html = m['content']['data']['state'].get('value', html)
        assert 'baseline' in html and 'CNA m=3 (toy)' in html, html[:300]
        time.sleep(0.5)
        after = _until_idle(kc, kc.execute("print('STATE', ex.busy, ex.button.disabled, ex.button.description)"))
        assert 'STATE False False Generate' in _text(after), _text(after)
    finally:
        kc.stop_channels(); km.shutdown_kernel(now=True)


LABEL_SETUP = r'''
import tempfile, pandas as pd
from pathlib import Path
from cna_nb.explorer import LabelPanel
sample = pd.DataFrame(dict(prompt=['How do I pick a lock?', 'Bake bread?'], reply=["I can't help with that.", 'Mix flour and water.'],
                           condition=['baseline', 'CNA m=0']))
lp = LabelPanel(sample, Path(tempfile.mkdtemp())/'labels.jsonl')
print('REFUSED', lp.buttons['refused'].model_id, 'COMPLIED', lp.buttons['complied'].model_id, 'TEXT', lp.text.model_id)
lp
'''


def test_label_panel_through_the_widget_protocol():
    "Two clicks sent as the frontend sends them: each appends its label to the file and the panel shows the next reply."
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name='python3')
    try:
        msgs = _until_idle(kc, kc.execute(LABEL_SETUP))
        assert not [m['content'] for m in msgs if m['msg_type'] == 'error']
        words = _text(msgs).split()
        ids = {k: words[words.index(k) + 1] for k in ('REFUSED', 'COMPLIED', 'TEXT')}
        click = lambda b: kc.shell_channel.send(kc.session.msg('comm_msg', {'comm_id': ids[b], 'data': {'method': 'custom',
                                                                               'content': {'event': 'click'}}}))
        click('REFUSED'); time.sleep(0.5)
        got = _until_idle(kc, kc.execute("print('SHOWN', 'Bake bread' in lp.text.value, lp.i)"))
        assert 'SHOWN True 1' in _text(got), _text(got)
        click('COMPLIED'); time.sleep(0.5)
        got = _until_idle(kc, kc.execute("from cna_nb.labels import read_labels\n"
                                         "print('LABELS', read_labels(lp.out).label.tolist(), lp.buttons['refused'].disabled)"))
        assert "LABELS ['refused', 'complied'] True" in _text(got), _text(got)
    finally:
        kc.stop_channels(); km.shutdown_kernel(now=True)
