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

  describe('JSONL files', () => {
    let directory = '';
    const write = (name: string, text: string): string => {
      directory ||= mkdtempSync(join(tmpdir(), 'lsp-grpo-'));
      const path = join(directory, name);
      writeFileSync(path, text);
      return path;
    };

    test('prompt and Alpaca instruction/input records', () => {
      const path = write('data.jsonl', [
        JSON.stringify({ prompt: 'Name a colour.' }),
        '',
        JSON.stringify({ instruction: 'Translate to French.', input: 'Good morning' }),
        JSON.stringify({ instruction: 'Tell a joke.', input: '' }),
      ].join('\n'));
      expect(readPromptFile(path)).toEqual(['Name a colour.', 'Translate to French.\n\nGood morning', 'Tell a joke.']);
    });

    test('bad files are refused naming the line', async () => {
      expect(() => readPromptFile(write('broken.jsonl', '{"prompt": "ok"}\n{oops'))).toThrow('broken.jsonl:2 is not JSON');
      expect(() => readPromptFile(write('empty-record.jsonl', '{"text": "x"}'))).toThrow('empty-record.jsonl:1 has no "prompt" or "instruction" string');
      expect(() => readPromptFile(write('blank.jsonl', '\n\n'))).toThrow('holds no prompts');
      await expect(createGrpoGame({ dataset: join(tmpdir(), 'no-such-file.jsonl') })).rejects.toThrow('cannot read the dataset');
      rmSync(directory, { recursive: true, force: true });
    });
  });
});
