"Circuit discovery is deterministic, exact in size, and its files are safe to reuse."
import pytest, torch
from conftest import tiny_model, PROMPTS
from cna_nb.deltas import contrast, Circuit, select_top
from cna_nb.universal import find_circuit, find_universal
from cna_nb.ablation import random_circuit
from cna_nb.hooks import steer

POS, NEG = ['bad thing one', 'bad thing two', 'very bad'], ['good thing one', 'nice', 'fine thing']


def test_same_inputs_same_circuit(ctok):
    a = find_circuit(tiny_model(), ctok, POS, NEG, k=7, universal=None, progress=False)
    b = find_circuit(tiny_model(), ctok, POS, NEG, k=7, universal=None, progress=False, batch_size=1)
    assert torch.equal(a.layers, b.layers) and torch.equal(a.neurons, b.neurons)
    torch.testing.assert_close(a.deltas, b.deltas, atol=1e-5, rtol=0)


def test_exclusion_still_returns_k_and_never_selects_excluded(ctok):
    m = tiny_model()
    con = contrast(m, ctok, POS, NEG, progress=False)
    top = con.circuit(k=10, exclude=False)
    ex = torch.zeros(3, 48, dtype=torch.bool); ex[top.layers[:4], top.neurons[:4]] = True
    con.exclude = ex
    c = con.circuit(k=10)
    assert len(c) == 10 and not ex[c.layers, c.neurons].any()
    assert set(zip(c.layers.tolist(), c.neurons.tolist())) >= set(zip(top.layers[4:].tolist(), top.neurons[4:].tolist()))


def test_default_fraction_is_a_tenth_of_a_percent():
    assert len(select_top(torch.randn(24, 4864, dtype=torch.float64))[0]) == 117


def test_save_load_roundtrip_and_shape_guard(tmp_path, ctok):
    m = tiny_model()
    c = find_circuit(m, ctok, POS, NEG, k=5, universal=None, progress=False)
    p = c.save(tmp_path / 'c.pt')
    assert not list(tmp_path.glob('*.tmp'))
    back = Circuit.load(p, model=m)
    assert torch.equal(back.neurons, c.neurons) and back.meta['positive_hash'] == c.meta['positive_hash']
    wrong = Circuit(c.layers, c.neurons, c.deltas, (3, 64), c.meta)
    with pytest.raises(ValueError, match='rediscover'):
        with steer(m, wrong): pass


def test_random_control_matches_layer_profile(ctok):
    c = find_circuit(tiny_model(), ctok, POS, NEG, k=12, universal=None, progress=False)
    r = random_circuit(c, seed=3)
    assert r.layer_counts().tolist() == c.layer_counts().tolist()
    assert not set(zip(r.layers.tolist(), r.neurons.tolist())) & set(zip(c.layers.tolist(), c.neurons.tolist()))


def test_universal_thresholds_are_parameters(ctok):
    m = tiny_model()
    loose = find_universal(m, ctok, PROMPTS, top_frac=0.1, min_share=0.25, progress=False)
    strict = find_universal(m, ctok, PROMPTS, top_frac=0.1, min_share=1.0, progress=False)
    assert len(strict) <= len(loose) and (strict.mask <= loose.mask).all()
    with pytest.raises(ValueError, match='min_share'): find_universal(m, ctok, PROMPTS, min_share=0)
