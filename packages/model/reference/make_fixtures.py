# Makes the transformers-parity fixtures of @lsp/model: tiny random Hugging Face folders (save_pretrained) and
# the token log-probabilities transformers computes for them. Not needed to run the tests; rerun to refresh.
#
#   python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch transformers safetensors
#   /tmp/ref/bin/python packages/model/reference/make_fixtures.py
#
# Folders written under packages/model/fixtures/<name>/, each with reference.json:
#   llama3-bf16        Llama, llama3 rope scaling, GQA, bf16 weights, transformers 5 config (rope_parameters, dtype)
#   qwen2-f16-v4       Qwen2, q/k/v bias, tied embeddings, linear rope scaling, f16, transformers 4 config
#                      (rope_theta + rope_scaling with the old "type" key, torch_dtype)
#   qwen3-sharded      Qwen3, QK-norm, head_dim 10 != hidden/heads, f32, two shards with an index
#   mistral-f32        Mistral, no biases, f32
#   llama-reward       LlamaForSequenceClassification with one label (a reward model's scalar head)
import json
import os
import shutil
import sys

import torch
import transformers
from transformers import (
    LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification, MistralConfig, MistralForCausalLM,
    Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM,
)

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures')

# Sequences scored in every fixture: prompts and completions of different lengths.
SEQUENCES = [
    ([1, 5, 9, 2], [17, 3, 44, 8, 0]),
    ([7], [7, 7, 30, 2, 61, 12, 5, 19]),
    ([60, 2, 33, 11, 4, 70, 25, 3, 9, 14, 50], [6, 1]),
    ([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], [40, 41, 42, 43]),
]
GENERATION_PROMPTS = [[1, 5, 9, 2], [60, 2, 33]]
VOCAB = 80


def randomise(model, seed):
    # Larger-than-default weights so that every part (norm gains, biases) visibly changes the outputs.
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator, dtype=torch.float32)
            if name.endswith('norm.weight'):
                parameter.copy_(1 + 0.3 * noise)
            elif name.endswith('.bias'):
                parameter.copy_(0.3 * noise)
            else:
                parameter.copy_(0.25 * noise)


def token_logprobs(model, dtype):
    model = model.to(dtype)
    results = []
    with torch.no_grad():
        for prompt, completion in SEQUENCES:
            ids = torch.tensor([prompt + completion])
            logits = model(input_ids=ids).logits[0].to(torch.float64)
            logprobs = torch.log_softmax(logits, dim=-1)
            rows = [logprobs[len(prompt) - 1 + i, token].item() for i, token in enumerate(completion)]
            results.append(rows)
    return results


def greedy(model):
    model = model.to(torch.float32)
    outputs = []
    with torch.no_grad():
        for prompt in GENERATION_PROMPTS:
            generated = model.generate(
                input_ids=torch.tensor([prompt]), max_new_tokens=8, do_sample=False, eos_token_id=None, pad_token_id=0,
            )
            outputs.append(generated[0, len(prompt):].tolist())
    return outputs


def write_reference(folder, model_class, extra):
    model32 = model_class.from_pretrained(folder, dtype=torch.float32)
    reference = {
        'transformers': transformers.__version__,
        'torch': torch.__version__,
        'sequences': [
            {'prompt_ids': prompt, 'completion_ids': completion} for prompt, completion in SEQUENCES
        ],
    }
    if model_class is LlamaForSequenceClassification:
        scores = {}
        for dtype, key in ((torch.float32, 'scores_float32'), (torch.float64, 'scores_float64')):
            model = model_class.from_pretrained(folder, dtype=torch.float32).to(dtype)
            with torch.no_grad():
                scores[key] = [model(input_ids=torch.tensor([p + c])).logits[0].tolist() for p, c in SEQUENCES]
        reference.update(scores)
    else:
        reference['logprobs_float32'] = token_logprobs(model32, torch.float32)
        reference['logprobs_float64'] = token_logprobs(
            model_class.from_pretrained(folder, dtype=torch.float32), torch.float64)
        reference['greedy_prompts'] = GENERATION_PROMPTS
        reference['greedy_float32'] = greedy(model_class.from_pretrained(folder, dtype=torch.float32))
    reference.update(extra)
    with open(os.path.join(folder, 'reference.json'), 'w') as file:
        json.dump(reference, file, indent=1)
        file.write('\n')


def to_transformers4_dialect(folder):
    # transformers 5 writes rope_parameters and dtype; rewrite as transformers 4 did: rope_theta at the top,
    # rope_scaling with the old "type" key, torch_dtype.
    path = os.path.join(folder, 'config.json')
    with open(path) as file:
        config = json.load(file)
    parameters = config.pop('rope_parameters')
    config['rope_theta'] = parameters.pop('rope_theta')
    rope_type = parameters.pop('rope_type', 'default')
    config['rope_scaling'] = None if rope_type == 'default' else {'type': rope_type, **parameters}
    config['torch_dtype'] = config.pop('dtype')
    config['transformers_version'] = '4.46.0'
    with open(path, 'w') as file:
        json.dump(config, file, indent=2)


def save(model, name, dtype, **kwargs):
    folder = os.path.join(root, name)
    shutil.rmtree(folder, ignore_errors=True)
    model.to(dtype).save_pretrained(folder, **kwargs)
    generation = os.path.join(folder, 'generation_config.json')
    if os.path.exists(generation):
        os.remove(generation)
    return folder


def main():
    os.makedirs(root, exist_ok=True)
    common = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                  rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, pad_token_id=0)

    torch.manual_seed(0)
    config = LlamaConfig(**common, tie_word_embeddings=False, rope_parameters={
        'rope_type': 'llama3', 'rope_theta': 10000.0, 'factor': 4.0, 'low_freq_factor': 1.0,
        'high_freq_factor': 4.0, 'original_max_position_embeddings': 64})
    model = LlamaForCausalLM(config)
    randomise(model, 1)
    folder = save(model, 'llama3-bf16', torch.bfloat16)
    write_reference(folder, LlamaForCausalLM, {'dialect': 'transformers 5'})

    config = Qwen2Config(**common, tie_word_embeddings=True,
                         rope_parameters={'rope_type': 'linear', 'rope_theta': 1000.0, 'factor': 2.0})
    model = Qwen2ForCausalLM(config)
    randomise(model, 2)
    folder = save(model, 'qwen2-f16-v4', torch.float16)
    to_transformers4_dialect(folder)
    write_reference(folder, Qwen2ForCausalLM, {'dialect': 'transformers 4'})

    config = Qwen3Config(**{**common, 'hidden_size': 24}, head_dim=10, tie_word_embeddings=False,
                         rope_parameters={'rope_type': 'default', 'rope_theta': 1000000.0})
    model = Qwen3ForCausalLM(config)
    randomise(model, 3)
    folder = save(model, 'qwen3-sharded', torch.float32, max_shard_size='20KB')
    write_reference(folder, Qwen3ForCausalLM, {'dialect': 'transformers 5'})

    config = MistralConfig(**common, sliding_window=128, tie_word_embeddings=False,
                           rope_parameters={'rope_type': 'default', 'rope_theta': 10000.0})
    model = MistralForCausalLM(config)
    randomise(model, 4)
    folder = save(model, 'mistral-f32', torch.float32)
    write_reference(folder, MistralForCausalLM, {'dialect': 'transformers 5'})

    config = LlamaConfig(**common, num_labels=1, tie_word_embeddings=False,
                         rope_parameters={'rope_type': 'default', 'rope_theta': 500000.0})
    model = LlamaForSequenceClassification(config)
    randomise(model, 5)
    folder = save(model, 'llama-reward', torch.float32)
    write_reference(folder, LlamaForSequenceClassification, {'dialect': 'transformers 5'})
    print('fixtures written to', os.path.normpath(root), file=sys.stderr)


if __name__ == '__main__':
    main()
