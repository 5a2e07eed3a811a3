import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('CNA_NB_STATS_CACHE', '0')   # tests measure; the stored-statistics cache has its own tests
import pytest, torch
from transformers import AutoConfig, AutoModelForCausalLM


from cna_nb.hooks import CharTok   # the package's stand-in tokenizer for tiny models


# One tiny config per supported family (model_type -> extra config kwargs).
FAMILIES = {
    'llama': {}, 'qwen2': {}, 'qwen3': dict(head_dim=8), 'mistral': {}, 'gemma': dict(head_dim=8), 'gemma2': dict(head_dim=8),
    'gemma3_text': dict(head_dim=8), 'phi3': {}, 'olmo2': {},
    'gpt2': dict(n_embd=32, n_layer=3, n_head=4, n_inner=48, n_positions=128),
    'gpt_neox': dict(intermediate_size=48, num_hidden_layers=3, num_attention_heads=4, hidden_size=32),
}


def tiny_model(model_type='qwen2', seed=0):
    kw = dict(vocab_size=97, hidden_size=32, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2)
    if model_type in ('gpt2', 'gpt_neox'): kw = dict(vocab_size=97)
    kw.update(FAMILIES[model_type])
    cfg = AutoConfig.for_model(model_type, **kw)
    cfg.pad_token_id = 0
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(cfg).eval()


@pytest.fixture
def ctok(): return CharTok()

PROMPTS = ['a short one', 'a much longer prompt with many more characters in it', 'mid length prompt', 'x']
