// `bun run bench:tokenizer`: encode throughput (MB/s of UTF-8) on the generated 5 MB corpus, in one run, for this
// plugin, Hugging Face tokenizers (native), tiktoken (wasm) and js-tiktoken, with the ratio to HF tokenizers and an
// exact-ids check; then batch encoding across every core against HF's thread pool. A script that prints figures,
// not a test. The ratio column divides by HF tokenizers' one-thread encodeBatch of the same tokenizer.
// HF tokenizers is pinned to one thread for the one-thread rows (RAYON_NUM_THREADS must be set before it loads).
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { generateCorpus } from '../src/tokenizer-corpus';
import { ParallelEncoder } from '../src/tokenizer-parallel';
import { packagedModelFolder, packagedModels } from '../src/tokenizer-test-support';
import { loadTokenizerSync } from '../src/tokenizer-wasm';

const threadsOfHf = process.env.LSP_BENCH_HF_THREADS ?? '1';
process.env.RAYON_NUM_THREADS = threadsOfHf;
process.env.TOKENIZERS_PARALLELISM = threadsOfHf === '1' ? 'false' : 'true';

const corpus = generateCorpus(20261125, 5_000_000);
const megabytes = corpus.reduce((sum, text) => sum + Buffer.byteLength(text), 0) / 1e6;
const repeats = Number(process.env.LSP_BENCH_REPEATS ?? 3);

/** Best of `repeats` timed runs, in MB/s. */
async function throughput(run: () => unknown): Promise<number> {
  let best = Infinity;
  await run(); // warm-up: caches, JIT, wasm tiering
  for (let index = 0; index < repeats; index++) {
    const start = performance.now();
    await run();
    best = Math.min(best, performance.now() - start);
  }
  return megabytes / (best / 1000);
}

function same(a: number[][], b: number[][]): boolean {
  return a.length === b.length && a.every((ids, index) => ids.length === b[index]!.length && ids.every((id, at) => id === b[index]![at]));
}

const loadAtStart = loadavg()[0]!;
const rows: { name: string; model: string; rate: number; ratio?: number; exact?: string }[] = [];
function print(): void {
  // Other work on the machine changes every row; the load average says how much there was.
  console.log(`\nload average (1 min) at start ${loadAtStart.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)}`);
  console.log(`corpus: ${corpus.length} documents, ${megabytes.toFixed(2)} MB; best of ${repeats}; ${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores; Bun ${Bun.version}`);
  console.log(`${'encoder'.padEnd(46)} ${'vocabulary'.padEnd(12)} ${'MB/s'.padStart(7)} ${'x HF'.padStart(6)}  exact ids`);
  for (const row of rows) {
    console.log(`${row.name.padEnd(46)} ${row.model.padEnd(12)} ${row.rate.toFixed(2).padStart(7)} ${(row.ratio ? row.ratio.toFixed(2) : '').padStart(6)}  ${row.exact ?? ''}`);
  }
}

const { Tokenizer } = await import('tokenizers');

// Child mode: HF tokenizers' encodeBatch on its own thread pool (the parent measures everything else).
if (process.env.LSP_BENCH_HF_POOL_ONLY === '1') {
  const hf = Tokenizer.fromFile(join(packagedModelFolder('llama3'), 'tokenizer.json'));
  console.log(JSON.stringify({ rate: await throughput(() => hf.encodeBatch(corpus)) }));
  process.exit(0);
}

for (const name of packagedModels) {
  const path = join(packagedModelFolder(name), 'tokenizer.json');
  const hf = Tokenizer.fromFile(path);
  const ours = loadTokenizerSync(path);
  const reference = (await hf.encodeBatch(corpus)).map((encoding) => encoding.getIds());
  const hfBatch = await throughput(() => hf.encodeBatch(corpus));
  const hfSingle = await throughput(async () => {
    for (const text of corpus) await hf.encode(text);
  });
  const oursSingle = await throughput(() => {
    for (const text of corpus) ours.encode(text);
  });
  const oursBatch = await throughput(() => ours.encodeBatchSync(corpus));
  const exact = same(ours.encodeBatchSync(corpus), reference) ? 'yes' : 'NO';
  rows.push({ name: `HF tokenizers encodeBatch, ${threadsOfHf} thread(s)`, model: name, rate: hfBatch, ratio: 1 });
  rows.push({ name: 'HF tokenizers encode, one text at a time', model: name, rate: hfSingle, ratio: hfSingle / hfBatch });
  rows.push({ name: '@lsp/tokenizer-wasm encode, one at a time', model: name, rate: oursSingle, ratio: oursSingle / hfBatch, exact });
  rows.push({ name: '@lsp/tokenizer-wasm encodeBatch, one thread', model: name, rate: oursBatch, ratio: oursBatch / hfBatch, exact });
  ours.dispose();
}

// tiktoken has no Llama vocabularies: cl100k_base has Llama 3's regex and a vocabulary of similar size, and
// o200k_base is the vocabulary and regex of the gpt4o file above (compare with its rows).
const tiktoken = await import('tiktoken');
const { Tiktoken } = await import('js-tiktoken/lite');
const jsRanks = {
  cl100k_base: (await import('js-tiktoken/ranks/cl100k_base')).default,
  o200k_base: (await import('js-tiktoken/ranks/o200k_base')).default,
};
for (const encodingName of ['cl100k_base', 'o200k_base'] as const) {
  const short = encodingName.replace('_base', '');
  const wasmEncoding = tiktoken.get_encoding(encodingName);
  rows.push({ name: 'tiktoken (wasm) encode_ordinary', model: short, rate: await throughput(() => { for (const text of corpus) wasmEncoding.encode_ordinary(text); }) });
  wasmEncoding.free();
  const jsEncoding = new Tiktoken(jsRanks[encodingName]);
  rows.push({ name: 'js-tiktoken encode (specials as text)', model: short, rate: await throughput(() => { for (const text of corpus) jsEncoding.encode(text, [], []); }) });
}

// Every core: our worker pool against HF's own thread pool, which is measured in a child process (Rayon's pool
// size is fixed when the native module loads, and this process pinned it to one thread).
const cores = availableParallelism();
const child = Bun.spawnSync([process.execPath, import.meta.path], {
  env: { ...process.env, LSP_BENCH_HF_POOL_ONLY: '1', LSP_BENCH_HF_THREADS: String(cores) },
  stderr: 'inherit',
});
const hfPool = JSON.parse(child.stdout.toString().trim().split('\n').pop() ?? '{}') as { rate?: number };
const llama3 = join(packagedModelFolder('llama3'), 'tokenizer.json');
const pool = await ParallelEncoder.create(llama3, cores);
const single = loadTokenizerSync(llama3);
const poolRate = await throughput(() => pool.encodeBatch(corpus));
const poolExact = same(await pool.encodeBatch(corpus), single.encodeBatchSync(corpus)) ? 'yes' : 'NO';
const llama3Hf = rows.find((row) => row.model === 'llama3' && row.ratio === 1)!.rate;
if (hfPool.rate) rows.push({ name: `HF tokenizers encodeBatch, ${cores} threads`, model: 'llama3', rate: hfPool.rate, ratio: hfPool.rate / llama3Hf });
rows.push({ name: `@lsp/tokenizer-wasm ParallelEncoder, ${cores} workers`, model: 'llama3', rate: poolRate, ratio: poolRate / llama3Hf, exact: poolExact });
pool.terminate();
single.dispose();
print();
