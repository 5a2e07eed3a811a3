"CAA and directional ablation: α = 0 is exact for every arm, hooks are undone after exceptions, orthogonality, the sign convention."
import pytest, torch
from conftest import tiny_model, FAMILIES
from cna_nb.testing import CharTok
from cna_nb.capture import capture, PerPrompt
from cna_nb.circuit import Circuit
from cna_nb.deltas import residual_contrast, ResidualContrast
from cna_nb.interventions import caa_steer, direction_ablation, default_layer
from cna_nb.conditions import Condition

METHODS = ('cna', 'caa', 'dirablate')
CIRC = Circuit(torch.tensor([1, 1]), torch.tensor([0, 3]), torch.zeros(2, dtype=torch.float64), (3, 48))

def arm(m, method, alpha, rc=None):
    "The arm at strength α as a Condition, entered on model m."
    c = {'cna': lambda: Condition.cna(CIRC, alpha=alpha), 'caa': lambda: Condition.caa(rc, alpha=alpha), 'dirablate': lambda: Condition.dirablate(rc, alpha=alpha)}[method]()
    return c.apply(m)

POS, NEG = ['how to hurt', 'how to steal it', 'hurt them now'], ['how to help', 'how to bake it', 'help them now']


def _logits(m, tok, texts):
    with torch.no_grad(): return m(**tok(texts, return_tensors='pt', padding=True)).logits


def _n_hooks(m): return sum(len(mod._forward_hooks) + len(mod._forward_pre_hooks) for mod in m.modules())


@pytest.mark.parametrize('family', ['qwen2', 'llama', 'gemma2', 'gpt2'])
def test_alpha_zero_is_the_unsteered_model_exactly_for_every_arm(family):
    m, tok = tiny_model(family), CharTok()
    rc = residual_contrast(m, tok, POS, NEG, progress=False)
    base = _logits(m, tok, POS + NEG)
    for method in METHODS:
        with arm(m, method, 0.0, rc=rc):
            assert _n_hooks(m) > 0 and torch.equal(_logits(m, tok, POS + NEG), base), method
        with arm(m, method, 1.0, rc=rc):
            assert not torch.equal(_logits(m, tok, POS + NEG), base), method
        assert _n_hooks(m) == 0 and torch.equal(_logits(m, tok, POS + NEG), base)


def test_hooks_are_removed_when_an_exception_flies():
    m, tok = tiny_model('qwen2'), CharTok()
    rc = residual_contrast(m, tok, POS, NEG, progress=False)
    base = _logits(m, tok, POS)
    for method in ('caa', 'dirablate'):
        with pytest.raises(RuntimeError, match='boom'):
            with arm(m, method, 1.0, rc=rc):
                raise RuntimeError('boom')
        assert _n_hooks(m) == 0 and torch.equal(_logits(m, tok, POS), base)


@pytest.mark.parametrize('family', ['qwen2', 'gpt_neox'])
def test_directional_ablation_leaves_every_layer_orthogonal_to_the_direction(family):
    m, tok = tiny_model(family), CharTok()
    rc = residual_contrast(m, tok, POS, NEG, progress=False)
    r = rc.direction(default_layer(m))
    with direction_ablation(m, r, 1.0):
        acts = capture(m, tok, POS + NEG + ['another unrelated prompt'], PerPrompt(), site='resid', progress=False).acts.double()
    rel = (acts @ r.double()).abs() / acts.norm(dim=-1)
    assert rel.max() < 1e-5


def test_caa_at_alpha_one_lowers_the_harmful_vs_benign_projection():
    m, tok = tiny_model('qwen2'), CharTok()
    rc = residual_contrast(m, tok, POS, NEG, progress=False)
    L = m.config.num_hidden_layers
    for layer in range(L):
        v = rc.direction(layer).double()
        before = capture(m, tok, POS, PerPrompt(), site='resid', progress=False).acts.double()[:, layer] @ v
        with caa_steer(m, rc, 1.0, layers=layer):
            after = capture(m, tok, POS, PerPrompt(), site='resid', progress=False).acts.double()[:, layer] @ v
        assert (after < before).all()
        assert torch.allclose(before - after, torch.full_like(before, float(rc.rms[layer])), rtol=1e-4)


def test_contrast_from_another_model_is_refused():
    a, tok = tiny_model('qwen2'), CharTok()
    rc = residual_contrast(a, tok, POS, NEG, progress=False)
    with pytest.raises(ValueError, match=r'shape \(2, 32\).*needs \(3, 32\)'):
        with caa_steer(a, ResidualContrast(rc.diff[:2], rc.rms[:2]), 1.0): pass
    with pytest.raises(ValueError, match='out of range'):
        with caa_steer(a, rc, 1.0, layers=[0, 5]): pass
