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


@pytest.fixture(scope='session', autouse=True)
def probe_judge_reader():
    """`evaluate` reads every reply with the probe judge (its reader: the embedded 0.5B). Load it once, from the suite's cache, before a
    test points CNA_NB_CACHE at an empty folder (which would make a later first load rebuild the model there)."""
    from cna_nb.probe import default_judge
    default_judge()._reader()
