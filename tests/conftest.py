import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('CNA_NB_STATS_CACHE', '0')   # tests measure; the stored-statistics cache has its own tests
os.environ.pop('CNA_NB_STATS_DIR', None)           # those tests set CNA_NB_CACHE to a temporary folder and look in its stats/
import pytest, torch
from cna_nb.testing import CharTok, FAMILIES, tiny_model   # the shared tiny-model helpers (not public API)


@pytest.fixture
def ctok(): return CharTok()

PROMPTS = ['a short one', 'a much longer prompt with many more characters in it', 'mid length prompt', 'x']


@pytest.fixture(scope='session')
def tiny_dirs(tmp_path_factory):
    "Two tiny Qwen2 folders of the same shape (different seeds) with the embedded model's tokenizer: a stand-in base / instruct pair."
    from transformers import AutoTokenizer
    from cna_nb.models import embedded_model_dir, DEFAULT_MODEL
    tok = AutoTokenizer.from_pretrained(embedded_model_dir(DEFAULT_MODEL))
    dirs = []
    for seed in (0, 1):
        d = tmp_path_factory.mktemp(f'tiny{seed}')
        m = tiny_model('qwen2', seed=seed); m.resize_token_embeddings(len(tok)); m.save_pretrained(d); tok.save_pretrained(d)
        dirs.append(d)
    return dirs



@pytest.fixture(autouse=True)
def keyword_verdicts(request, monkeypatch):
    """tests/ check the runner's mechanics (resume, bad input, MoE, families) on tiny random models, whose replies say nothing a judge
    could read; the probe judge's own path — `evaluate`'s default — is tested in nbs/11a_probe and nbs/12_runner (and every notebook
    that calls `evaluate`). So here `refusal='probe'` means the keyword list, unless a test is marked `probe_judge`: the suite does not
    load and run the judge's reader ~30 times for verdicts nobody checks."""
    if 'probe_judge' in request.keywords: return
    import cna_nb.runner as runner
    real = runner.refusal_judge
    monkeypatch.setattr(runner, 'refusal_judge', lambda refusal: None if refusal == 'probe' else real(refusal))


def pytest_configure(config):
    config.addinivalue_line('markers', 'probe_judge: evaluate uses the real probe judge (loads the embedded 0.5B as its reader)')
