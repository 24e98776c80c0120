// GRPO on data: where its prompts come from and how iterations walk through them.
import { describe, expect, test } from 'bun:test';
import { heldOutPrompts, parseTask } from '@lsp/world';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGrpoGame, datasetQueries, readPromptFile } from './game-grpo';

describe('the dataset', () => {
  test('world: generated tasks, valid and never held out, each used once per epoch', async () => {
    const game = await createGrpoGame({ datasetSize: 24, seed: 3 });
    const epoch = [0, 1, 2].flatMap((iteration) => game.queries!({ iteration, count: 8 }));
    expect(new Set(epoch).size).toBe(24);
    const heldOut = heldOutPrompts();
    for (const query of epoch) {
      expect(parseTask(query).valid).toBe(true);
      expect(heldOut.has(query)).toBe(false);
    }
    // The same iteration always gets the same prompts (resumable); the next epoch is another order.
    expect(game.queries!({ iteration: 1, count: 8 })).toEqual(epoch.slice(8, 16));
    const nextEpoch = [3, 4, 5].flatMap((iteration) => game.queries!({ iteration, count: 8 }));
    expect(new Set(nextEpoch)).toEqual(new Set(epoch));
    expect(nextEpoch).not.toEqual(epoch);
  });

  test('a batch larger than the dataset wraps into the next epoch', () => {
    const queries = datasetQueries(['a', 'b', 'c'], 0, 0, 5);
    expect(queries).toHaveLength(5);
    expect(new Set(queries.slice(0, 3))).toEqual(new Set(['a', 'b', 'c']));
  });

  describe('dataset files', () => {
    let directory = '';
    const write = (name: string, text: string): string => {
      directory ||= mkdtempSync(join(tmpdir(), 'lsp-grpo-'));
      const path = join(directory, name);
      writeFileSync(path, text);
      return path;
    };
    const refusal = (path: string): string => {
      try {
        readPromptFile(path);
      } catch (error) {
        const message = (error as Error).message;
        expect(message).not.toContain('\n');
        return message;
      }
      throw new Error(`${path} was not refused`);
    };

    test('JSONL: prompt and Alpaca instruction/input records', () => {
      const path = write('data.jsonl', [
        JSON.stringify({ prompt: 'Name a colour.' }),
        '',
        JSON.stringify({ instruction: 'Translate to French.', input: 'Good morning' }),
        JSON.stringify({ instruction: 'Tell a joke.', input: '' }),
        JSON.stringify({ instruction: 'Say hi.', output: 'hi' }),
        JSON.stringify({ instruction: 'Count.', input: '   ' }),
      ].join('\n'));
      expect(readPromptFile(path)).toEqual(['Name a colour.', 'Translate to French.\n\nGood morning', 'Tell a joke.', 'Say hi.', 'Count.']);
    });

    test('a JSON array of Alpaca records (alpaca_data.json), and prompts mixed in', async () => {
      const records = [
        { instruction: 'Give three tips for staying healthy.', input: '', output: '1. Eat well...' },
        { instruction: 'Classify the sentiment.', input: 'I loved this film!\nTruly.', output: 'Positive' },
        { prompt: 'Write a limerick.' },
        { instruction: 'Name a prime.', input: null, output: '7' },
      ];
      const path = write('alpaca_data.json', JSON.stringify(records, null, 2));
      const expected = [
        'Give three tips for staying healthy.', 'Classify the sentiment.\n\nI loved this film!\nTruly.', 'Write a limerick.', 'Name a prime.',
      ];
      expect(readPromptFile(path)).toEqual(expected);
      // The game walks through them like any dataset: every prompt once per epoch.
      const game = await createGrpoGame({ dataset: path, seed: 1 });
      expect(new Set(game.queries!({ iteration: 0, count: 4 }))).toEqual(new Set(expected));
    });

    test('bad rows are refused in one line naming the file, the line and the field', async () => {
      expect(refusal(write('broken.jsonl', '{"prompt": "ok"}\n{oops'))).toStartWith(`game grpo: ${join(directory, 'broken.jsonl')}:2: not valid JSON`);
      expect(refusal(write('empty-record.jsonl', '{"text": "x"}'))).toBe(`game grpo: ${join(directory, 'empty-record.jsonl')}:1: no "prompt" or "instruction" field`);
      expect(refusal(write('number.jsonl', '{"prompt": "a"}\n{"instruction": 7}'))).toStartWith(`game grpo: ${join(directory, 'number.jsonl')}:2: field "instruction" must be a string`);
      expect(refusal(write('empty.jsonl', '{"instruction": "  ", "input": "x"}'))).toBe(`game grpo: ${join(directory, 'empty.jsonl')}:1: field "instruction" is empty`);
      expect(refusal(write('empty-prompt.jsonl', '{"prompt": ""}'))).toBe(`game grpo: ${join(directory, 'empty-prompt.jsonl')}:1: field "prompt" is empty`);
      expect(refusal(write('not-object.jsonl', '{"prompt": "a"}\n"b"'))).toStartWith(`game grpo: ${join(directory, 'not-object.jsonl')}:2: expected a JSON object`);
      expect(refusal(write('strings.json', '["a"]'))).toStartWith(`game grpo: ${join(directory, 'strings.json')}:1 (element 0): expected a JSON object`);
      const array = write('bad-input.json', '[\n  {"instruction": "a", "input": ""},\n  {"instruction": "b", "input": 3}\n]');
      expect(refusal(array)).toStartWith(`game grpo: ${array}:3 (element 1): field "input" must be a string`);
      const unclosed = write('unclosed.json', '[\n  {"instruction": "a"},\n  {"instruction": "b"}\n');
      expect(refusal(unclosed)).toContain(`${unclosed}:3 (element 1): not valid JSON`);
      expect(refusal(write('blank.jsonl', '\n\n'))).toContain('holds no prompts');
      expect(refusal(write('empty-array.json', '[]'))).toContain('holds no prompts');
      await expect(createGrpoGame({ dataset: join(tmpdir(), 'no-such-file.jsonl') })).rejects.toThrow('cannot read the dataset');
      rmSync(directory, { recursive: true, force: true });
    });
  });
});
