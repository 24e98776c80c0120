// Batch encoding across cores: a pool of Bun workers, each with its own wasm instance of the same tokenizer,
// given contiguous slices of the batch; results come back in input order.
import { availableParallelism } from 'node:os';
import { InvalidInputError, UnavailableError } from '@lsp/core';
import { toNumbers } from './tokenizer-wasm-module';

/** The worker's module: the .ts source under Bun's "bun" condition, the built .js in dist/ otherwise. */
function workerUrl(): URL {
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`./tokenizer-parallel-worker.${extension}`, import.meta.url);
}

interface Pending {
  resolve: (ids: number[][]) => void;
  reject: (error: Error) => void;
}

export class ParallelEncoder {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextJob = 0;

  private constructor(workers: Worker[]) {
    this.workers = workers;
    for (const worker of workers) {
      worker.onmessage = (event: MessageEvent) => {
        const data = event.data as { kind: string; job: number; lengths?: Uint32Array; flat?: Uint32Array; message?: string };
        const pending = this.pending.get(data.job);
        if (!pending) return;
        this.pending.delete(data.job);
        if (data.kind === 'error') {
          pending.reject(new InvalidInputError(`encode: ${data.message}`));
          return;
        }
        const result: number[][] = [];
        let offset = 0;
        for (const length of data.lengths!) {
          result.push(toNumbers(data.flat!, offset, offset + length));
          offset += length;
        }
        pending.resolve(result);
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

  private run(worker: Worker, texts: string[], addSpecialTokens: boolean): Promise<number[][]> {
    const job = this.nextJob++;
    return new Promise((resolve, reject) => {
      this.pending.set(job, { resolve, reject });
      worker.postMessage({ kind: 'encode', job, texts, addSpecialTokens });
    });
  }

  /** Encodes `texts`, split into one contiguous slice per worker, balanced by character count. */
  async encodeBatch(texts: readonly string[], options: { addSpecialTokens?: boolean } = {}): Promise<number[][]> {
    const total = texts.reduce((sum, text) => sum + text.length, 0);
    const slices: string[][] = [];
    let start = 0;
    let seen = 0;
    for (let index = 0; index < this.workers.length; index++) {
      const target = (total * (index + 1)) / this.workers.length;
      let end = start;
      while (end < texts.length && (seen < target || index === this.workers.length - 1)) seen += texts[end++]!.length;
      slices.push(texts.slice(start, end));
      start = end;
    }
    const parts = await Promise.all(slices.map((slice, index) => this.run(this.workers[index]!, slice, options.addSpecialTokens !== false)));
    return parts.flat();
  }

  terminate(): void {
    for (const worker of this.workers) worker.terminate();
    for (const pending of this.pending.values()) pending.reject(new Error('parallel encoder terminated'));
    this.pending.clear();
  }
}
