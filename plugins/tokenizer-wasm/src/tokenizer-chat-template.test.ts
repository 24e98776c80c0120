// Chat templates rendered with @huggingface/jinja equal transformers' apply_chat_template, recorded by
// scripts/record-chat-templates.py into fixtures/chat-templates.json, for the Llama 3 and Qwen3 folders.
import { describe, expect, test } from 'bun:test';
import { InvalidInputError, type ChatMessage } from '@lsp/core';
import fixtures from './fixtures/chat-templates.json';
import { packagedModelFolder } from './tokenizer-test-support';
import { loadTokenizerSync } from './tokenizer-wasm';

const conversations = fixtures.conversations as ChatMessage[][];

describe('applyChatTemplate', () => {
  for (const name of ['llama3', 'qwen3'] as const) {
    test(`${name}: every recorded conversation renders to transformers' string`, () => {
      const tokenizer = loadTokenizerSync(packagedModelFolder(name));
      const records = fixtures.records.filter((record) => record.tokenizer === name);
      expect(records.length).toBe(conversations.length * 2);
      for (const record of records) {
        const rendered = tokenizer.applyChatTemplate(conversations[record.conversation]!, { addGenerationPrompt: record.add_generation_prompt });
        expect(rendered).toBe(record.text);
      }
      tokenizer.dispose();
    });
  }

  test('the rendered prompt encodes with its special tokens matched inside the text', () => {
    const tokenizer = loadTokenizerSync(packagedModelFolder('qwen3'));
    const prompt = tokenizer.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true });
    const ids = tokenizer.encode(prompt, { addSpecialTokens: false });
    expect(ids.filter((id) => id === tokenizer.tokenToId('<|im_start|>')).length).toBe(2);
    expect(tokenizer.specialTokenIds.eos).toContain(tokenizer.tokenToId('<|im_end|>')!);
    tokenizer.dispose();
  });

  test('a tokenizer without a chat template is refused with one line', () => {
    const tokenizer = loadTokenizerSync(packagedModelFolder('llama2'));
    try {
      tokenizer.applyChatTemplate([{ role: 'user', content: 'hi' }]);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(InvalidInputError.isInstance(error)).toBe(true);
      expect((error as InvalidInputError).message).toBe('tokenizer_config.json: chat_template is missing');
    }
    tokenizer.dispose();
  });
});
