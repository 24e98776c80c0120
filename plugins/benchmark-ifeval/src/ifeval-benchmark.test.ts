// The 'ifeval' benchmark through the BenchmarkV1 interface: the sample file and responses written for it, the
// figures aggregate reports (hand-computed), details for `lsp bench --json`, sampled answers and repeated rounds.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type BenchmarkItem } from '@lsp/core';
import benchmarkIfeval, { createIfevalBenchmark, evaluateResponse, ifevalBenchmarkFactory } from './index';

const fixtures = join(import.meta.dir, 'fixtures');
const data = join(fixtures, 'input_data.jsonl');
const responses = readFileSync(join(fixtures, 'input_response_data.jsonl'), 'utf8')
  .trim().split('\n').map((line) => JSON.parse(line) as { prompt: string; response: string });

function answerTo(item: BenchmarkItem): string {
  return responses.find((entry) => entry.prompt === item.prompt)!.response;
}

describe('the ifeval benchmark', () => {
  test('a plugin with one benchmark factory named ifeval', () => {
    const plugin = benchmarkIfeval();
    expect(plugin).toMatchObject({ name: '@lsp/benchmark-ifeval', specificationVersion: 'v1' });
    expect(plugin.benchmarks?.map((factory) => factory.name)).toEqual(['ifeval']);
    expect(ifevalBenchmarkFactory.specificationVersion).toBe('v1');
  });

  test('options: data is required, limit a positive integer', () => {
    expect(() => createIfevalBenchmark({})).toThrow(ConfigError);
    expect(() => createIfevalBenchmark({ data, limit: 0 })).toThrow('option limit must be a positive integer');
    expect(() => ifevalBenchmarkFactory.create({ data: 7 })).toThrow('option data (the path of input_data.jsonl) is required');
  });

  test('items: id ifeval/<key>, the prompt as published, instructions in metadata; limit', async () => {
    const items = await createIfevalBenchmark({ data }).loadItems();
    expect(items).toHaveLength(8);
    expect(items[1]).toMatchObject({
      id: 'ifeval/2',
      metadata: { key: 2, line: 2, instruction_id_list: ['detectable_format:number_bullet_lists'], kwargs: [{ num_bullets: 3 }] },
    });
    expect(await createIfevalBenchmark({ data, limit: 3 }).loadItems()).toHaveLength(3);
  });

  test('the sample responses: per-prompt strict scores and the figures, hand-computed', async () => {
    const benchmark = createIfevalBenchmark({ data });
    const items = await benchmark.loadItems();
    const scores: number[] = [];
    for (const item of items) scores.push(await benchmark.scoreItem(item, answerTo(item)));
    // 1 lowercase English: yes. 2 four bullets: no (three once the last line goes: loose yes). 3 quoted, no comma: yes.
    // 4 title yes, end phrase then a sign-off: no (loose yes). 5 five words (needs 20): no; keywords yes.
    // 6 two highlights and a P.S.: yes. 7 fenced JSON: yes. 8 Spanish: yes.
    expect(scores).toEqual([1, 0, 1, 0, 0, 1, 1, 1]);
    const figures = benchmark.aggregate(items, scores);
    expect(figures.overall).toBe(5 / 8);
    expect(figures.prompt_strict).toBe(5 / 8);
    expect(figures.prompt_loose).toBe(7 / 8);
    expect(figures.instruction_strict).toBe(9 / 12);
    expect(figures.instruction_loose).toBe(11 / 12);
    expect(figures['by_id/detectable_format:number_bullet_lists/strict']).toBe(0);
    expect(figures['by_id/detectable_format:number_bullet_lists/loose']).toBe(1);
    expect(figures['by_id/startend:end_checker/strict']).toBe(0);
    expect(figures['by_id/startend:end_checker/loose']).toBe(1);
    expect(figures['by_id/length_constraints:number_words/loose']).toBe(0);
    expect(figures['by_id/language:response_language/strict']).toBe(1);
    expect(figures['by_family/detectable_format/strict']).toBe(3 / 4);
    expect(figures['by_family/detectable_format/loose']).toBe(1);
    expect(figures['by_family/startend/strict']).toBe(1 / 2);
    expect(Object.keys(figures).filter((key) => key.startsWith('by_id/'))).toHaveLength(2 * 12);
  });

  test('details: each instruction\'s strict and loose result, without counting the answer twice', async () => {
    const benchmark = createIfevalBenchmark({ data });
    const items = await benchmark.loadItems();
    const item = items[3]!;
    expect(await benchmark.scoreItem(item, answerTo(item))).toBe(0);
    expect(await benchmark.details!(item, answerTo(item))).toEqual({
      key: 4,
      prompt_strict: false,
      prompt_loose: true,
      instructions: [
        { id: 'detectable_format:title', kwargs: {}, strict: true, loose: true },
        { id: 'startend:end_checker', kwargs: { end_phrase: 'Is there anything else I can help with?' }, strict: false, loose: true },
      ],
    });
    expect(benchmark.aggregate([item], [0]).prompt_loose).toBe(1);
  });

  test('sampled answers are averaged per item; scoring again after aggregate starts a new round', async () => {
    const benchmark = createIfevalBenchmark({ data });
    const items = await benchmark.loadItems();
    const item = items[2]!; // quotation + no comma
    const good = '"A riddle without commas."';
    const bad = '"A riddle, with a comma."';
    const mean = ((await benchmark.scoreItem(item, good)) + (await benchmark.scoreItem(item, bad))) / 2;
    expect(mean).toBe(0.5);
    expect(benchmark.aggregate([item], [mean])).toMatchObject({ prompt_strict: 0.5, prompt_loose: 0.5, instruction_strict: 0.75 });
    // A later round (a run's next held-out evaluation) replaces the record instead of adding to it.
    const again = await benchmark.scoreItem(item, bad);
    expect(benchmark.aggregate([item], [again])).toMatchObject({ prompt_strict: 0, prompt_loose: 0, instruction_strict: 0.5 });
  });

  test('scores that did not come from this benchmark\'s scoreItem give only overall and prompt_strict', async () => {
    const benchmark = createIfevalBenchmark({ data });
    const items = await benchmark.loadItems();
    expect(benchmark.aggregate(items.slice(0, 2), [1, 0])).toEqual({ overall: 0.5, prompt_strict: 0.5 });
    expect(() => benchmark.aggregate(items.slice(0, 2), [1])).toThrow('2 items but 1 scores');
  });

  test('evaluateResponse works on an item made elsewhere, and validates its metadata', async () => {
    const item: BenchmarkItem = {
      id: 'mine', prompt: 'Say hello.',
      metadata: { instruction_id_list: ['punctuation:no_comma'], kwargs: [{}] },
    };
    expect((await evaluateResponse(item, 'Hello there')).promptStrict).toBe(true);
    await expect(evaluateResponse({ ...item, metadata: { instruction_id_list: ['nope'], kwargs: [{}] } }, 'x'))
      .rejects.toThrow('benchmark ifeval: item mine: field "instruction_id_list[0]": unknown instruction id "nope"');
  });
});
