import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('CNA_NB_STATS_CACHE', '0')   # tests measure; the stored-statistics cache has its own tests
import pytest, torch
from cna_nb.testing import CharTok, FAMILIES, tiny_model   # the shared tiny-model helpers (not public API)


@pytest.fixture
def ctok(): return CharTok()

PROMPTS = ['a short one', 'a much longer prompt with many more characters in it', 'mid length prompt', 'x']
