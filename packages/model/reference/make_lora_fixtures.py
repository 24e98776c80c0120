# Makes the LoRA fixtures of @lsp/model with PEFT: adapters on the transformers-parity base folders (made by
# make_fixtures.py), saved by PEFT's save_pretrained, and the token log-probabilities PEFT's model computes with
# each adapter (float64), plus PEFT's merge_and_unload log-probabilities. Rerun to refresh:
#
#   scripts/setup.sh --with-references && .venv-references/bin/pip install peft
#   .venv-references/bin/python packages/model/reference/make_lora_fixtures.py
#
# Folders written under packages/model/fixtures/lora-<name>/ (adapter_config.json, adapter_model.safetensors,
# reference.json):
#   lora-qwen2-all    on qwen2-f16-v4 (tied embeddings, q/k/v biases): every projection, r 4, alpha 8
#   lora-mistral-qv   on mistral-f32: q_proj and v_proj only, r 2, alpha 3, rsLoRA scaling (alpha / sqrt(r))
import json
import os
import shutil
import sys

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures')
SEQUENCES = [
    ([1, 5, 9, 2], [17, 3, 44, 8, 0]),
    ([7], [7, 7, 30, 2, 61, 12, 5, 19]),
    ([60, 2, 33, 11, 4, 70, 25, 3, 9, 14, 50], [6, 1]),
]


def token_logprobs(model):
    results = []
    with torch.no_grad():
        for prompt, completion in SEQUENCES:
            logits = model(input_ids=torch.tensor([prompt + completion])).logits[0].to(torch.float64)
            logprobs = torch.log_softmax(logits, dim=-1)
            results.append([logprobs[len(prompt) - 1 + i, token].item() for i, token in enumerate(completion)])
    return results


def make(name, base, seed, **lora):
    base_folder = os.path.join(root, base)
    folder = os.path.join(root, f'lora-{name}')
    shutil.rmtree(folder, ignore_errors=True)
    model = AutoModelForCausalLM.from_pretrained(base_folder, dtype=torch.float32).to(torch.float64)
    model = get_peft_model(model, LoraConfig(task_type='CAUSAL_LM', lora_dropout=0.0, **lora))
    # Non-zero B (PEFT starts B at zero, which would make the adapter a no-op), values exact in float32.
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter_name, parameter in model.named_parameters():
            if 'lora_' in parameter_name:
                parameter.copy_((0.3 * torch.randn(parameter.shape, generator=generator)).to(torch.float32).to(torch.float64))
    model.eval()
    reference = {
        'peft': peft.__version__, 'transformers': transformers.__version__, 'torch': torch.__version__,
        'base': base,
        'sequences': [{'prompt_ids': p, 'completion_ids': c} for p, c in SEQUENCES],
        'logprobs_float64': token_logprobs(model),
    }
    model.to(torch.float32).save_pretrained(folder)
    model.to(torch.float64)
    merged = model.merge_and_unload()
    reference['merged_logprobs_float64'] = token_logprobs(merged)
    base_model = AutoModelForCausalLM.from_pretrained(base_folder, dtype=torch.float32).to(torch.float64)
    reference['base_logprobs_float64'] = token_logprobs(base_model)
    # The saved config names the base by an absolute path here; the fixture names it by folder.
    config_path = os.path.join(folder, 'adapter_config.json')
    with open(config_path) as file:
        config = json.load(file)
    config['base_model_name_or_path'] = f'../{base}'
    with open(config_path, 'w') as file:
        json.dump(config, file, indent=2)
        file.write('\n')
    readme = os.path.join(folder, 'README.md')
    if os.path.exists(readme):
        os.remove(readme)
    with open(os.path.join(folder, 'reference.json'), 'w') as file:
        json.dump(reference, file, indent=1)
        file.write('\n')


def main():
    make('qwen2-all', 'qwen2-f16-v4', 11, r=4, lora_alpha=8,
         target_modules=['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'])
    make('mistral-qv', 'mistral-f32', 12, r=2, lora_alpha=3, use_rslora=True, target_modules=['q_proj', 'v_proj'])
    print('LoRA fixtures written to', os.path.normpath(root), file=sys.stderr)


if __name__ == '__main__':
    main()
