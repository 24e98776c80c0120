// Reading input_data.jsonl: both published layouts, and one clear line for every kind of bad input.
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { InvalidInputError } from '@lsp/core';
import { parseIfevalJsonl, readIfevalFile } from './input';

const fixtures = join(import.meta.dir, 'fixtures');

/** The error a parse throws: an InvalidInputError whose one-line message is returned. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(InvalidInputError.isInstance(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected an InvalidInputError');
}

async function asyncRefusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    expect(InvalidInputError.isInstance(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected an InvalidInputError');
}

function line(record: Record<string, unknown>): string {
  return JSON.stringify({ key: 1, prompt: 'Write something.', ...record });
}

describe('reading the published format', () => {
  test('the sample file: keys, prompts, ids and normalised kwargs, both kwargs layouts', async () => {
    const prompts = await readIfevalFile(join(fixtures, 'input_data.jsonl'));
    expect(prompts.map((prompt) => prompt.key)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(prompts[1]!.instructions).toEqual([{ id: 'detectable_format:number_bullet_lists', kwargs: { num_bullets: 3 } }]);
    // Hugging Face layout: every argument name present, null where unused.
    expect(prompts[5]!.instructions).toEqual([
      { id: 'detectable_format:number_highlighted_sections', kwargs: { num_highlights: 2 } },
      { id: 'detectable_content:postscript', kwargs: { postscript_marker: 'P.S.' } },
    ]);
    expect(prompts[6]!.instructions).toEqual([{ id: 'detectable_format:json_format', kwargs: {} }]);
    expect(prompts[7]!.line).toBe(8);
  });

  test('limit stops after that many records; blank lines are skipped', () => {
    const text = `\n${line({ key: 1, instruction_id_list: [], kwargs: [] })}\n\n${line({ key: 2, instruction_id_list: [], kwargs: [] })}\n`;
    expect(parseIfevalJsonl(text, 'f.jsonl').map((prompt) => prompt.line)).toEqual([2, 4]);
    expect(parseIfevalJsonl(text, 'f.jsonl', 1)).toHaveLength(1);
  });

  test('phrases are stripped, the first word and the letter lower-cased, as the reference builds them', () => {
    const [prompt] = parseIfevalJsonl(line({
      instruction_id_list: ['startend:end_checker', 'length_constraints:nth_paragraph_first_word', 'keywords:letter_frequency'],
      kwargs: [{ end_phrase: ' Bye. ' }, { num_paragraphs: 2, nth_paragraph: 1, first_word: 'Hello' }, { letter: 'Q', let_frequency: 2, let_relation: 'at least' }],
    }), 'f.jsonl');
    expect(prompt!.instructions.map((instruction) => instruction.kwargs)).toEqual([
      { end_phrase: 'Bye.' }, { num_paragraphs: 2, nth_paragraph: 1, first_word: 'hello' }, { letter: 'q', let_frequency: 2, let_relation: 'at least' },
    ]);
  });
});

describe('bad input: one line naming the file, the line and the field', () => {
  test('a missing field', async () => {
    const path = join(fixtures, 'bad-missing-prompt.jsonl');
    expect(await asyncRefusal(() => readIfevalFile(path))).toBe(`${path}:2: field "prompt" is missing`);
    expect(refusal(() => parseIfevalJsonl(line({ instruction_id_list: [] }), 'f.jsonl'))).toBe('f.jsonl:1: field "kwargs" is missing');
    expect(refusal(() => parseIfevalJsonl(JSON.stringify({ prompt: 'x', instruction_id_list: [], kwargs: [] }), 'f.jsonl')))
      .toBe('f.jsonl:1: field "key" is missing');
  });

  test('an unknown instruction id', async () => {
    const path = join(fixtures, 'bad-unknown-id.jsonl');
    expect(await asyncRefusal(() => readIfevalFile(path)))
      .toBe(`${path}:3: field "instruction_id_list[1]": unknown instruction id "keywords:rhymes"`);
  });

  test('kwargs of the wrong type', async () => {
    const path = join(fixtures, 'bad-kwargs-type.jsonl');
    expect(await asyncRefusal(() => readIfevalFile(path)))
      .toBe(`${path}:1: field "kwargs[0].num_bullets" must be a non-negative integer, found "3"`);
    const cases: [Record<string, unknown>, string][] = [
      [{ instruction_id_list: ['keywords:existence'], kwargs: [{ keywords: 'cat' }] }, 'field "kwargs[0].keywords" must be a non-empty list of strings, found "cat"'],
      [{ instruction_id_list: ['length_constraints:number_words'], kwargs: [{ num_words: 10, relation: 'at most' }] }, 'field "kwargs[0].relation" must be "less than" or "at least", found "at most"'],
      [{ instruction_id_list: ['length_constraints:number_words'], kwargs: [{ num_words: 2.5, relation: 'at least' }] }, 'field "kwargs[0].num_words" must be a non-negative integer, found number 2.5'],
      [{ instruction_id_list: ['keywords:letter_frequency'], kwargs: [{ letter: 'ab', let_frequency: 1, let_relation: 'at least' }] }, 'field "kwargs[0].letter" must be a single character, found "ab"'],
      [{ instruction_id_list: ['punctuation:no_comma'], kwargs: ['none'] }, 'field "kwargs[0]" must be an object, found "none"'],
      [{ instruction_id_list: 'punctuation:no_comma', kwargs: [{}] }, 'field "instruction_id_list" must be a list of instruction ids, found "punctuation:no_comma"'],
      [{ instruction_id_list: [7], kwargs: [{}] }, 'field "instruction_id_list[0]" must be a string, found number 7'],
      [{ prompt: 3, instruction_id_list: [], kwargs: [] }, 'field "prompt" must be a string, found number 3'],
    ];
    for (const [record, message] of cases) expect(refusal(() => parseIfevalJsonl(line(record), 'f.jsonl'))).toBe(`f.jsonl:1: ${message}`);
    expect(refusal(() => parseIfevalJsonl(line({ instruction_id_list: ['language:response_language'], kwargs: [{ language: 'xx' }] }), 'f.jsonl')))
      .toStartWith('f.jsonl:1: field "kwargs[0].language" must be one of IFEval\'s language codes (en, es,');
  });

  test('a required argument missing or null, an argument the instruction does not take, one out of range', () => {
    expect(refusal(() => parseIfevalJsonl(line({ instruction_id_list: ['detectable_format:number_highlighted_sections'], kwargs: [{ num_highlights: null }] }), 'f.jsonl')))
      .toBe('f.jsonl:1: field "kwargs[0].num_highlights" is missing (detectable_format:number_highlighted_sections needs it)');
    expect(refusal(() => parseIfevalJsonl(line({ instruction_id_list: ['detectable_format:title'], kwargs: [{ num_words: 3 }] }), 'f.jsonl')))
      .toBe('f.jsonl:1: field "kwargs[0].num_words": detectable_format:title takes no argument "num_words"');
    expect(refusal(() => parseIfevalJsonl(line({
      instruction_id_list: ['length_constraints:nth_paragraph_first_word'], kwargs: [{ num_paragraphs: 2, nth_paragraph: 3, first_word: 'so' }],
    }), 'f.jsonl'))).toBe('f.jsonl:1: field "kwargs[0].nth_paragraph" must be between 1 and num_paragraphs (2)');
  });

  test('kwargs not one per instruction, a repeated key, a line that is not JSON, a file that cannot be read', async () => {
    expect(refusal(() => parseIfevalJsonl(line({ instruction_id_list: ['detectable_format:title'], kwargs: [] }), 'f.jsonl')))
      .toBe('f.jsonl:1: field "kwargs" has 0 entries but "instruction_id_list" has 1; there must be one per instruction');
    const twice = `${line({ instruction_id_list: [], kwargs: [] })}\n${line({ instruction_id_list: [], kwargs: [] })}`;
    expect(refusal(() => parseIfevalJsonl(twice, 'f.jsonl'))).toBe('f.jsonl:2: field "key": 1 was already used on line 1');
    expect(refusal(() => parseIfevalJsonl('{"key": 1,', 'f.jsonl'))).toStartWith('f.jsonl:1: not valid JSON');
    expect(refusal(() => parseIfevalJsonl('[1]', 'f.jsonl'))).toStartWith('f.jsonl:1: expected a JSON object');
    expect(await asyncRefusal(() => readIfevalFile(join(fixtures, 'missing.jsonl')))).toContain('cannot read');
  });
});
