// Batch encoding across cores: a pool of Bun workers, each with its own wasm instance of the same tokenizer,
// given jobs of consecutive texts as UTF-8 as they have room; results are put back in input order.
import { availableParallelism } from 'node:os';
import { InvalidInputError, UnavailableError } from '@lsp/core';
import { splitIds } from './tokenizer-wasm-module';

/** The worker's module: the .ts source under Bun's "bun" condition, the built .js in dist/ otherwise. */
function workerUrl(): URL {
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`./tokenizer-parallel-worker.${extension}`, import.meta.url);
}

/** UTF-8 bytes of text per job: small enough that the workers start at once and that results are converted
 * while later jobs encode, large enough that a job's two messages cost little next to its encoding. */
const jobBytes = 256 * 1024;
/** Jobs a worker holds at once: one encoding, one waiting, so that it never idles between jobs. */
const jobsPerWorker = 2;

/** The ids of one job: texts [first, first + counts.length) of its batch. */
interface JobResult {
  first: number;
  counts: Uint32Array;
  ids: Uint32Array;
}

interface Pending {
  first: number;
  resolve: (result: JobResult) => void;
  reject: (error: Error) => void;
}

const textEncoder = new TextEncoder();

export class ParallelEncoder {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextJob = 0;
  private terminated = false;

  private constructor(workers: Worker[]) {
    this.workers = workers;
    for (const worker of workers) {
      worker.onmessage = (event: MessageEvent) => {
        const data = event.data as { kind: string; job: number; counts?: Uint32Array; ids?: Uint32Array; message?: string };
        const pending = this.pending.get(data.job);
        if (!pending) return;
        this.pending.delete(data.job);
        if (data.kind === 'error') pending.reject(new InvalidInputError(`encode: ${data.message}`));
        else pending.resolve({ first: pending.first, counts: data.counts!, ids: data.ids! });
      };
      // A worker that dies fails every job in flight rather than leaving its promise unsettled.
      worker.onerror = (event) => {
        for (const pending of this.pending.values()) pending.reject(new Error(`tokenizer worker failed: ${event.message}`));
        this.pending.clear();
      };
    }
  }

  /** Starts `threads` workers (default: every core) and loads the tokenizer in each. */
  static async create(path: string, threads = availableParallelism()): Promise<ParallelEncoder> {
    if (typeof Worker === 'undefined') {
      throw new UnavailableError('ParallelEncoder needs web Workers, which Bun provides and Node does not', {
        hint: 'run with bun, or encode on one thread with encodeBatch',
      });
    }
    const workers = Array.from({ length: Math.max(1, threads) }, () => new Worker(workerUrl()));
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.onmessage = (event: MessageEvent) => {
              const data = event.data as { kind: string; message?: string };
              if (data.kind === 'loaded') resolve();
              else reject(new InvalidInputError(data.message ?? 'tokenizer worker failed to load'));
            };
            worker.onerror = (event) => reject(new Error(`tokenizer worker failed: ${event.message}`));
            worker.postMessage({ kind: 'load', path });
          }),
      ),
    );
    return new ParallelEncoder(workers);
  }

  get threads(): number {
    return this.workers.length;
  }

  /**
   * Encodes `texts` in jobs of about jobBytes of UTF-8, handed to whichever worker has room, and calls `take` with
   * each job's ids as they come back (so the caller converts them while the workers go on). The main thread
   * writes each job's UTF-8 just before sending it, in a buffer that is transferred, not copied.
   */
  private async encodeJobs(texts: readonly string[], addSpecialTokens: boolean, take: (result: JobResult) => void): Promise<void> {
    if (this.terminated) throw new Error('parallel encoder terminated: create a new one');
    let next = 0;
    const send = (worker: Worker): Promise<void> | undefined => {
      if (next >= texts.length) return undefined;
      const first = next;
      let capacity = 0;
      while (next < texts.length && (next === first || capacity < jobBytes)) capacity += texts[next++]!.length * 3;
      const bytes = new Uint8Array(capacity);
      const lengths = new Uint32Array(next - first);
      let offset = 0;
      for (let index = first; index < next; index++) {
        const { written } = textEncoder.encodeInto(texts[index]!, bytes.subarray(offset));
        lengths[index - first] = written;
        offset += written;
      }
      const job = this.nextJob++;
      const result = new Promise<JobResult>((resolve, reject) => this.pending.set(job, { first, resolve, reject }));
      worker.postMessage(
        { kind: 'encode', job, bytes: bytes.subarray(0, offset), lengths, addSpecialTokens },
        [bytes.buffer, lengths.buffer],
      );
      // When this job is back, the worker has room for another.
      return result.then((done) => {
        take(done);
        return send(worker);
      });
    };
    const lanes: Promise<void>[] = [];
    for (let slot = 0; slot < jobsPerWorker; slot++) {
      for (const worker of this.workers) {
        const lane = send(worker);
        if (lane) lanes.push(lane);
      }
    }
    await Promise.all(lanes);
  }

  /** Encodes `texts` across the workers; ids in input order, exactly those of one-thread encoding. */
  async encodeBatch(texts: readonly string[], options: { addSpecialTokens?: boolean } = {}): Promise<number[][]> {
    const result: number[][] = new Array(texts.length);
    await this.encodeJobs(texts, options.addSpecialTokens !== false, ({ first, counts, ids }) => splitIds(counts, ids, result, first));
    return result;
  }

  /** encodeBatch as typed arrays (each text's id count, then all ids), without making an array per text. */
  async encodeBatchFlat(texts: readonly string[], options: { addSpecialTokens?: boolean } = {}): Promise<{ counts: Uint32Array; ids: Uint32Array }> {
    const results: JobResult[] = [];
    await this.encodeJobs(texts, options.addSpecialTokens !== false, (result) => results.push(result));
    results.sort((a, b) => a.first - b.first);
    const counts = new Uint32Array(texts.length);
    const ids = new Uint32Array(results.reduce((sum, result) => sum + result.ids.length, 0));
    let offset = 0;
    for (const result of results) {
      counts.set(result.counts, result.first);
      ids.set(result.ids, offset);
      offset += result.ids.length;
    }
    return { counts, ids };
  }

  terminate(): void {
    this.terminated = true;
    for (const worker of this.workers) worker.terminate();
    for (const pending of this.pending.values()) pending.reject(new Error('parallel encoder terminated'));
    this.pending.clear();
  }
}
