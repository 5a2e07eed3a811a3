"""Mixture-of-experts families on tiny random models: the expert neuron site against a reference computed by hand from the weights,
steering by hook and by weights, the matched random control, and CNA end to end through the same runner as dense models."""
import pytest, torch
import torch.nn.functional as F
from conftest import FAMILIES, tiny_model, PROMPTS
from cna_nb.testing import MOE_FAMILIES
from cna_nb.architectures import neuron_shape, neuron_layout, out_projs
from cna_nb.capture import capture, PerPrompt
from cna_nb.moe import MoELayout
from cna_nb.interventions import steer
from cna_nb.conditions import Condition
from cna_nb.circuit import Circuit, random_circuit
from cna_nb.deltas import contrast
from cna_nb.circuit import find_circuit
from cna_nb.runner import evaluate
from cna_nb.decoding import generate

MOE = sorted(MOE_FAMILIES)
X = torch.tensor([[5, 6, 7, 8, 9, 10]])


def block_inputs(m, ids):
    "The input of every layer's MoE block at the last token, read with a plain forward pre-hook (no cna_nb code)."
    seen = {}
    hs = [l.mlp.register_forward_pre_hook(lambda mod, args, j=j: seen.__setitem__(j, args[0][0, -1].detach().clone())) for j, l in enumerate(m.model.layers)]
    try:
        with torch.no_grad(): m(input_ids=ids)
    finally:
        for h in hs: h.remove()
    return [seen[j] for j in range(len(seen))]


def by_hand(family, mlp, x):
    "Every expert's activation (input of its output projection), the routed set, and the shared expert's, written out per family."
    ex = mlp.experts
    if family == 'gpt_oss':
        gu = torch.einsum('h,ehk->ek', x, ex.gate_up_proj) + ex.gate_up_proj_bias          # [E, 2I], interleaved gate/up
        g, u = gu[:, ::2].clamp(max=ex.limit), gu[:, 1::2].clamp(-ex.limit, ex.limit)
        acts = (u + 1) * (g * torch.sigmoid(g * ex.alpha))
        logits = mlp.router.weight @ x + mlp.router.bias
    else:
        gu = torch.einsum('h,ekh->ek', x, ex.gate_up_proj)                                   # [E, 2I], gate then up
        g, u = gu.chunk(2, dim=-1)
        acts = F.silu(g) * u
        logits = mlp.gate.weight @ x
    chosen = torch.zeros(len(acts), dtype=torch.bool); chosen[logits.topk(2).indices] = True
    shared = None
    if family == 'qwen2_moe':
        s = mlp.shared_expert; shared = F.silu(s.gate_proj.weight @ x) * (s.up_proj.weight @ x)
    return acts, chosen, shared


@pytest.mark.parametrize('family', MOE)
def test_expert_site_equals_reference_by_hand(family, ctok):
    m = tiny_model(family)
    lay = neuron_layout(m)
    assert lay.n_experts == 4 and lay.expert_width == 12 and lay.shared_width == (12 if family == 'qwen2_moe' else 0)
    ids = torch.tensor(ctok(['hello world'])['input_ids'])
    got_routed = capture(m, ctok, ['hello world'], PerPrompt(), progress=False, cache=False).acts[0]          # [L, W]
    got_all = capture(m, ctok, ['hello world'], PerPrompt(), site='mlp_all', progress=False, cache=False).acts[0]
    for j, x in enumerate(block_inputs(m, ids)):
        with torch.no_grad(): acts, chosen, shared = by_hand(family, m.model.layers[j].mlp, x)
        want_all = torch.cat([acts.flatten()] + ([shared] if shared is not None else []))
        want_routed = torch.cat([(acts * chosen[:, None]).flatten()] + ([shared] if shared is not None else []))
        torch.testing.assert_close(got_all[j], want_all.float(), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(got_routed[j], want_routed.float(), atol=1e-5, rtol=1e-5)
        assert int(chosen.sum()) == 2 and (got_routed[j][:48].reshape(4, 12).abs().sum(1) > 0).tolist() == chosen.tolist()


@pytest.mark.parametrize('family', MOE)
def test_routed_neurons_rebuild_the_block_output(family):
    "The captured activations, through each chosen expert's output projection and routing weight, give the block's own output."
    m = tiny_model(family)
    mlp, ex = m.model.layers[1].mlp, m.model.layers[1].mlp.experts
    x = torch.randn(5, 32)
    with torch.no_grad():
        router = mlp.router if family == 'gpt_oss' else mlp.gate
        _, w, idx = router(x)
        acts = by_hand(family, mlp, x[0])[0]
        outs = torch.einsum('ei,eih->eh', acts, ex.down_proj) + ex.down_proj_bias if family == 'gpt_oss' else torch.einsum('ei,ehi->eh', acts, ex.down_proj)
        y = (outs[idx[0]] * w[0, :, None]).sum(0)
        if family == 'qwen2_moe':
            s = mlp.shared_expert; sh = by_hand(family, mlp, x[0])[2]
            y = y + torch.sigmoid(mlp.shared_expert_gate(x[0])) * (s.down_proj.weight @ sh)
        full = mlp(x[None])
        full = full[0] if isinstance(full, tuple) else full
    torch.testing.assert_close(y, full[0, 0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('family', MOE)
def test_batched_capture_equals_single(family, ctok):
    m = tiny_model(family)
    b = capture(m, ctok, PROMPTS, PerPrompt(), batch_size=4, progress=False).acts
    s = torch.cat([capture(m, ctok, [p], PerPrompt(), progress=False).acts for p in PROMPTS])
    assert (b - s).abs().max() < 1e-5


@pytest.mark.parametrize('family', MOE)
def test_hook_and_weights_agree_and_are_undone(family, ctok):
    m = tiny_model(family)
    W = neuron_shape(m)[1]
    neurons = {0: [1, 2, 13, W - 1], 2: [5, 30, 47]}          # several experts, and the shared expert's last unit where there is one
    params = {n: p.detach().clone() for n, p in m.named_parameters()}
    with torch.no_grad():
        base = m(X).logits
        for mult in (0.0, 0.5, 2.5):
            with steer(m, neurons, mult): hooked = m(X).logits
            with steer(m, neurons, mult, method='weights'): baked = m(X).logits
            assert (hooked - baked).abs().max() < 1e-5, (mult, (hooked - baked).abs().max())
            assert (hooked - base).abs().max() > 1e-6
        with steer(m, neurons, 1.0): same = m(X).logits
        after = m(X).logits
    assert (same - base).abs().max() < 1e-6 and torch.equal(after, base)
    assert all(torch.equal(params[n], p) for n, p in m.named_parameters())
    assert not any(mod._forward_hooks or mod._forward_pre_hooks for mod in m.modules())


@pytest.mark.parametrize('family', ['qwen2_moe', 'gpt_oss'])      # a shared expert; the transposed, biased GPT-OSS layout
@pytest.mark.parametrize('method', ['hook', 'weights'])
def test_steering_acts_while_generating_and_is_undone_after_exception(family, method, ctok):
    m = tiny_model(family)
    params = {n: p.detach().clone() for n, p in m.named_parameters()}
    base = generate(m, ctok, PROMPTS[:2], max_new_tokens=6, progress=False)
    every = {l: list(range(neuron_shape(m)[1])) for l in range(3)}
    with steer(m, every, 8.0, method=method): steered = generate(m, ctok, PROMPTS[:2], max_new_tokens=6, progress=False)
    assert steered != base
    with pytest.raises(RuntimeError, match='interrupted'):
        with steer(m, {1: [3, 40]}, 0.0, method=method): raise RuntimeError('interrupted')
    assert all(torch.equal(params[n], p) for n, p in m.named_parameters())
    assert generate(m, ctok, PROMPTS[:2], max_new_tokens=6, progress=False) == base


@pytest.mark.parametrize('family', MOE)
def test_random_control_is_matched_per_layer_and_expert(family, ctok):
    m = tiny_model(family)
    con = contrast(m, ctok, ['zzz bad!', 'very bad zzz', 'zzzz'], ['a nice day', 'good', 'fine thanks'], progress=False)
    c = con.circuit(k=20)
    assert c.layout == neuron_layout(m)
    for seed in range(3):
        r = random_circuit(c, seed=seed)
        assert (r.expert_counts().to_numpy() == c.expert_counts().to_numpy()).all()
        assert not set(zip(r.layers.tolist(), r.neurons.tolist())) & set(zip(c.layers.tolist(), c.neurons.tolist()))


def test_cna_end_to_end_on_moe_through_the_runner(ctok, tmp_path):
    "find_circuit (with the universal filter), Condition and evaluate carry an MoE circuit unchanged; save/load keeps the layout."
    m = tiny_model('qwen2_moe')
    pos, neg = ['zzz bad!', 'very bad zzz', 'zzzz', 'bad bad'], ['a nice day', 'good', 'fine thanks', 'lovely']
    circ, con = find_circuit(m, ctok, pos, neg, k=10, universal='auto', return_contrast=True, progress=False)
    assert con.meta['moe'] == neuron_layout(m).describe() and con.meta['site'] == 'mlp'
    back = Circuit.load(circ.save(tmp_path/'c.pt'), model=m)
    assert back.layout == circ.layout and (back.expert_counts() == circ.expert_counts()).all().all()
    conds = [Condition.baseline(), Condition.cna(back, m=0), Condition.random(back, m=0, exclude=con.exclude),
             Condition.cna(back, m=0, method='weights', label='CNA m=0 (weights)')]
    df = evaluate(m, ctok, PROMPTS[:3], conds, max_new_tokens=5, out=tmp_path/'r.jsonl', progress=False)
    by = df.groupby('condition', sort=False).reply.apply(list)
    assert by['CNA m=0'] == by['CNA m=0 (weights)']                  # hook and weights give the same replies
    again = evaluate(m, ctok, PROMPTS[:3], conds, max_new_tokens=5, out=tmp_path/'r.jsonl', progress=False)
    assert again.reply.tolist() == df.reply.tolist()                 # resumed from the file


def test_routed_and_all_sites_give_different_deltas(ctok):
    m = tiny_model('mixtral')
    pos, neg = ['zzz bad!', 'very bad zzz', 'zzzz'], ['a nice day', 'good', 'fine thanks']
    routed = contrast(m, ctok, pos, neg, progress=False)
    every = contrast(m, ctok, pos, neg, site='mlp_all', progress=False)
    assert routed.meta['site'] == 'mlp' and every.meta['site'] == 'mlp_all'
    assert not torch.allclose(routed.delta, every.delta)


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_dense_families_have_no_expert_layout(family):
    assert neuron_layout(tiny_model(family)) is None


def test_mixed_dense_and_moe_layers_are_refused():
    with pytest.raises(ValueError, match='mlp_only_layers'):
        neuron_shape(tiny_model('qwen3_moe', mlp_only_layers=[0]))


def test_universal_neurons_of_another_site_are_refused(ctok):
    from cna_nb.universal import find_universal
    m = tiny_model('olmoe')
    u = find_universal(m, ctok, PROMPTS, progress=False)
    assert u.site == 'mlp' and u.mask.shape == neuron_shape(m)
    with pytest.raises(ValueError, match="site='mlp_all'"):
        find_circuit(m, ctok, PROMPTS[:2], PROMPTS[2:], k=4, universal=u, site='mlp_all', progress=False)
