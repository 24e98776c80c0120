// runTokenize, the logic of `lsp tokenize`: one JSON id array per input line (plain or JSONL), decode mode,
// --no-special, and one-line errors; ids compared with Hugging Face tokenizers.
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { InvalidInputError } from '@lsp/core';
import { Tokenizer } from 'tokenizers';
import { runTokenize, type TokenizeOptions } from './tokenizer-command';
import { packagedModelFolder } from './tokenizer-test-support';

async function run(options: TokenizeOptions, chunks: string[]): Promise<string[]> {
  let written = '';
  async function* input() {
    for (const chunk of chunks) yield new TextEncoder().encode(chunk);
  }
  await runTokenize(options, input(), { write: (text: string) => (written += text) });
  return written.split('\n').slice(0, -1);
}

describe('runTokenize', () => {
  const llama3 = join(packagedModelFolder('llama3'), 'tokenizer.json');
  const llama2 = packagedModelFolder('llama2');

  test('plain lines, split across chunks, give the reference ids one array per line', async () => {
    const texts = ["Hello world, it's 2026!", '', '  indented\tcode  ', '你好 <|eot_id|> 👍🏽'];
    const chunks = [texts.join('\n').slice(0, 7), texts.join('\n').slice(7), '\n'];
    const output = await run({ tokenizerPath: llama3 }, chunks);
    const reference = Tokenizer.fromFile(llama3);
    const expected = await Promise.all(texts.map(async (text) => JSON.stringify((await reference.encode(text)).getIds())));
    expect(output).toEqual(expected);
  });

  test('JSONL input carries newlines; --no-special leaves out the BOS of Llama 2', async () => {
    const texts = ['line one\nline two', 'tab\there'];
    const reference = Tokenizer.fromFile(join(llama2, 'tokenizer.json'));
    for (const special of [true, false]) {
      const output = await run({ tokenizerPath: llama2, jsonl: true, special }, [texts.map((text) => JSON.stringify(text)).join('\n')]);
      const expected = await Promise.all(
        texts.map(async (text) => JSON.stringify((await reference.encode(text, null, { addSpecialTokens: special })).getIds())),
      );
      expect(output).toEqual(expected);
      expect(output.every((line) => line.startsWith('[1,') === special)).toBe(true);
    }
  });

  test('decode reads id arrays and writes JSON strings, skipping special tokens with --no-special', async () => {
    const ids = [[128000, 9906, 1917], [40, 2846, 220, 128009]];
    const input = [ids.map((list) => JSON.stringify(list)).join('\n') + '\n'];
    expect(await run({ tokenizerPath: llama3, decode: true }, input)).toEqual(['"<|begin_of_text|>Hello world"', '"I\'m <|eot_id|>"']);
    expect(await run({ tokenizerPath: llama3, decode: true, special: false }, input)).toEqual(['"Hello world"', '"I\'m "']);
  });

  test('an id out of range, a bad JSON line and a missing file each give one line', async () => {
    const outOfRange = run({ tokenizerPath: llama3, decode: true }, ['[1, 2]\n[999999]\n']);
    await expect(outOfRange).rejects.toThrow('line 2: decode: id 999999 is out of range');
    const badJson = run({ tokenizerPath: llama3, jsonl: true }, ['"ok"\nnot json\n']);
    await expect(badJson).rejects.toThrow('line 2: not a JSON string');
    try {
      await run({ tokenizerPath: '/nonexistent/tokenizer.json' }, ['x']);
      throw new Error('expected a failure');
    } catch (error) {
      expect(InvalidInputError.isInstance(error)).toBe(true);
      expect((error as InvalidInputError).toLine()).not.toContain('\n');
    }
  });
});
