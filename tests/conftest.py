import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import pytest, torch
from transformers import AutoConfig, AutoModelForCausalLM


class CharTok:
    "Character-level stand-in tokenizer: tests need no tokenizer download."
    chat_template, bos_token, eos_token, eos_token_id, pad_token, pad_token_id, padding_side = None, None, '\x01', 1, '\x00', 0, 'left'
    def __call__(self, texts, return_tensors=None, padding=False, add_special_tokens=True):
        ids = [[2 + ord(c) % 90 for c in t] for t in texts]
        if not padding: return {'input_ids': ids}
        L = max(map(len, ids))
        return {'input_ids': torch.tensor([[0] * (L - len(i)) + i for i in ids]),
                'attention_mask': torch.tensor([[0] * (L - len(i)) + [1] * len(i) for i in ids])}
    def batch_decode(self, seqs, skip_special_tokens=True): return [''.join(chr(97 + int(t) % 26) for t in s) for s in seqs]


# One tiny config per supported family (model_type -> extra config kwargs).
FAMILIES = {
    'llama': {}, 'qwen2': {}, 'qwen3': dict(head_dim=8), 'mistral': {}, 'gemma': dict(head_dim=8), 'gemma2': dict(head_dim=8),
    'gemma3_text': dict(head_dim=8), 'phi3': {}, 'olmo2': {},
    'gpt2': dict(n_embd=32, n_layer=3, n_head=4, n_inner=48, n_positions=64),
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
