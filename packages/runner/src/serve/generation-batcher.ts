// The batching behind `lsp serve`: requests that arrive within a short window, or while a batch is generating,
// go to the model together in one `generate` call (PolicyModelV1.generate takes many prompts at once).
//
// One call has one set of sampling settings, so a batch holds submissions whose temperature, top-p, top-k and
// stop sequences agree; each entry stops at its own max_tokens (its answer is delivered then, while the batch
// goes on). A submission with a seed runs as a call of its own, its entries in order, so the same request with
// the same seed gives the same tokens whatever else the server is doing: the tokens `generate` gives locally for
// those prompts, settings and seed. The model runs one call at a time; batches run in arrival order.
import type { PolicyModelV1, StreamDecoder, TokenizerV1 } from '@lsp/core';

export interface BatchSampling {
  temperature: number;
  topP: number;
  topK: number;
  stop: readonly string[];
  seed?: number;
}

export interface BatchEntry {
  promptIds: readonly number[];
  /** undefined: until an end token, a stop sequence or the end of the context the batch leaves. */
  maxTokens: number | undefined;
}

export interface EntryOutput {
  completionIds: number[];
  text: string;
  finishReason: 'stop' | 'length';
  /** log p of each completion token under the model (raw logits, no temperature), when asked for. */
  tokenLogProbs?: number[];
}

export interface EntryDelta {
  /** Text that became final (never text that may turn out to start a stop sequence). */
  text: string;
  /** Token ids generated since the last delta. */
  ids: number[];
}

export interface SubmitOptions {
  logprobs?: boolean;
  /** Streaming: called as entry `index` of the submission grows. Not called when logprobs are asked for. */
  onDelta?: (index: number, delta: EntryDelta) => void;
}

export interface BatcherStats {
  /** Calls of the model's generate(). */
  generateCalls: number;
  /** Entries (prompt x choice) generated. */
  entries: number;
  largestBatch: number;
}

export interface BatcherOptions {
  /** How long the first request of an idle server waits for others to join it. Default 5 ms. */
  windowMs?: number;
  /** Most entries in one generate call. Default 64. */
  maxBatchEntries?: number;
  eosTokenIds: ReadonlySet<number>;
  contextLength: number;
}

interface Submission {
  key: string;
  entries: readonly BatchEntry[];
  sampling: BatchSampling;
  options: SubmitOptions;
  states: EntryState[];
  unfinished: number;
  settled: boolean;
  resolve: (outputs: EntryOutput[]) => void;
  reject: (error: unknown) => void;
}

/** The longest suffix of `text` that is a proper prefix of some stop sequence: held back while streaming. */
function heldBack(text: string, stops: readonly string[]): number {
  let longest = 0;
  for (const stop of stops) {
    for (let length = Math.min(stop.length - 1, text.length); length > longest; length--) {
      if (text.endsWith(stop.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

class EntryState {
  readonly ids: number[] = [];
  text = '';
  finishReason: 'stop' | 'length' | undefined;
  private releasedText = 0;
  private releasedIds = 0;
  private readonly decoder: StreamDecoder | undefined;

  constructor(
    private readonly maxTokens: number | undefined,
    private readonly stops: readonly string[],
    private readonly eos: ReadonlySet<number>,
    tokenizer: TokenizerV1 | undefined,
  ) {
    this.decoder = tokenizer?.createStreamDecoder({ skipSpecialTokens: true });
  }

  get done(): boolean {
    return this.finishReason !== undefined;
  }

  /** Takes one generated token; returns true when this token finished the entry. */
  push(id: number): boolean {
    this.ids.push(id);
    if (this.eos.has(id)) return this.finish('stop');
    if (this.decoder) this.text += this.decoder.push(id);
    if (this.cutAtStop()) return this.finish('stop');
    if (this.maxTokens !== undefined && this.ids.length >= this.maxTokens) return this.finish('length');
    return false;
  }

  /** Ends the entry (the batch ended, or a limit was reached): the decoder's held-back bytes, then a last stop check. */
  finish(reason: 'stop' | 'length'): true {
    if (this.finishReason !== undefined) return true;
    if (this.decoder) this.text += this.decoder.flush();
    this.finishReason = this.cutAtStop() ? 'stop' : reason;
    return true;
  }

  private cutAtStop(): boolean {
    if (this.stops.length === 0) return false;
    let at = -1;
    for (const stop of this.stops) {
      const found = this.text.indexOf(stop);
      if (found >= 0 && (at < 0 || found < at)) at = found;
    }
    if (at < 0) return false;
    this.text = this.text.slice(0, at);
    return true;
  }

  /** What became final since the last call. */
  delta(): EntryDelta {
    const end = this.done ? this.text.length : this.text.length - heldBack(this.text, this.stops);
    const delta = { text: this.text.slice(this.releasedText, Math.max(this.releasedText, end)), ids: this.ids.slice(this.releasedIds) };
    this.releasedText = Math.max(this.releasedText, end);
    this.releasedIds = this.ids.length;
    return delta;
  }

  output(): EntryOutput {
    return { completionIds: [...this.ids], text: this.text, finishReason: this.finishReason ?? 'length' };
  }
}

export class GenerationBatcher {
  readonly stats: BatcherStats = { generateCalls: 0, entries: 0, largestBatch: 0 };
  private queue: Submission[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private closed = false;
  private seededCount = 0;
  private readonly windowMs: number;
  private readonly maxBatchEntries: number;
  private swaps: { model: PolicyModelV1; resolve: (previous: PolicyModelV1) => void }[] = [];

  constructor(private model: PolicyModelV1, private readonly options: BatcherOptions) {
    this.windowMs = options.windowMs ?? 5;
    this.maxBatchEntries = options.maxBatchEntries ?? 64;
  }

  /** Generates every entry; resolves with one output per entry, in order. */
  submit(entries: readonly BatchEntry[], sampling: BatchSampling, options: SubmitOptions = {}): Promise<EntryOutput[]> {
    if (this.closed) return Promise.reject(new Error('the server is shutting down'));
    return new Promise<EntryOutput[]>((resolve, reject) => {
      const key = sampling.seed !== undefined
        ? `seeded ${this.seededCount++}`
        : JSON.stringify([sampling.temperature, sampling.topP, sampling.topK, sampling.stop]);
      const states = entries.map((entry) => new EntryState(entry.maxTokens, sampling.stop, this.options.eosTokenIds, this.model.tokenizer));
      this.queue.push({ key, entries, sampling, options, states, unfinished: entries.length, settled: false, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Serves `model` from now on (a weight reload): at once when no batch is generating, else as soon as the batch
   * in progress ends, before the next one starts. Resolves with the model it replaced, for the caller to free.
   */
  replaceModel(model: PolicyModelV1): Promise<PolicyModelV1> {
    return new Promise<PolicyModelV1>((resolve) => {
      this.swaps.push({ model, resolve });
      if (!this.running) this.applySwaps();
    });
  }

  private applySwaps(): void {
    for (const swap of this.swaps.splice(0)) {
      const previous = this.model;
      this.model = swap.model;
      swap.resolve(previous);
    }
  }

  /** Refuses new submissions and fails queued ones; the batch in progress finishes. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const submission of this.queue) submission.reject(new Error('the server is shutting down'));
    this.queue = [];
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, this.windowMs);
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        this.applySwaps();
        await this.runBatch(this.takeBatch());
      }
    } finally {
      this.running = false;
      this.applySwaps();
    }
  }

  /**
   * The oldest submission and every queued one that can share its call: same settings, within the entry limit,
   * and leaving every entry the tokens it asked for (the model's room to generate is the context less the
   * longest prompt of the call).
   */
  private takeBatch(): Submission[] {
    const first = this.queue[0]!;
    const batch: Submission[] = [];
    let entries = 0;
    let longestPrompt = 0;
    let room = 0;
    const context = this.options.contextLength;
    const needs = (submission: Submission) => {
      const prompt = Math.max(...submission.entries.map((entry) => entry.promptIds.length));
      const asked = Math.max(0, ...submission.entries.map((entry) => entry.maxTokens === undefined ? 0 : Math.min(entry.maxTokens, context - entry.promptIds.length)));
      return { prompt, asked };
    };
    this.queue = this.queue.filter((submission) => {
      if (submission.key !== first.key) return true;
      const { prompt, asked } = needs(submission);
      if (batch.length > 0) {
        if (entries + submission.entries.length > this.maxBatchEntries) return true;
        if (Math.max(longestPrompt, prompt) + Math.max(room, asked) > context) return true;
      }
      batch.push(submission);
      entries += submission.entries.length;
      longestPrompt = Math.max(longestPrompt, prompt);
      room = Math.max(room, asked);
      return false;
    });
    return batch;
  }

  private async runBatch(batch: Submission[]): Promise<void> {
    const owners: { submission: Submission; index: number }[] = [];
    for (const submission of batch) submission.entries.forEach((_, index) => owners.push({ submission, index }));
    const { sampling } = batch[0]!;
    const maxNewTokens = Math.max(...owners.map(({ submission, index }) => submission.entries[index]!.maxTokens ?? this.options.contextLength));
    this.stats.generateCalls++;
    this.stats.entries += owners.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, owners.length);
    try {
      const results = await this.model.generate(
        owners.map(({ submission, index }) => ({ promptIds: submission.entries[index]!.promptIds })),
        {
          maxNewTokens,
          temperature: sampling.temperature,
          topP: sampling.topP,
          topK: sampling.topK,
          ...(sampling.stop.length > 0 ? { stopSequences: sampling.stop } : {}),
          seed: sampling.seed ?? Math.floor(Math.random() * 2 ** 31),
        },
        (position, id) => {
          const { submission, index } = owners[position]!;
          const state = submission.states[index]!;
          if (state.done || submission.settled) return;
          const finished = state.push(id);
          this.deliver(submission, index, finished);
        },
      );
      results.forEach((result, position) => {
        const { submission, index } = owners[position]!;
        const state = submission.states[index]!;
        if (state.done || submission.settled) return;
        state.finish(result.finishReason === 'length' ? 'length' : 'stop');
        this.deliver(submission, index, true);
      });
      await this.attachLogProbs(batch);
    } catch (error) {
      for (const submission of batch) this.settle(submission, error);
    }
  }

  private deliver(submission: Submission, index: number, finished: boolean): void {
    const state = submission.states[index]!;
    if (submission.options.onDelta && !submission.options.logprobs) {
      const delta = state.delta();
      if (delta.text || delta.ids.length > 0) {
        try {
          submission.options.onDelta(index, delta);
        } catch {
          // A client that went away must not stop the batch.
        }
      }
    }
    if (finished) {
      submission.unfinished--;
      if (submission.unfinished === 0 && !submission.options.logprobs) this.settle(submission);
    }
  }

  /** The log-probabilities asked for, in one batched pass over every such entry of the batch. */
  private async attachLogProbs(batch: Submission[]): Promise<void> {
    const wanting = batch.filter((submission) => submission.options.logprobs && !submission.settled);
    if (wanting.length === 0) return;
    const sequences = wanting.flatMap((submission) => submission.states.map((state, index) => ({
      promptIds: submission.entries[index]!.promptIds, completionIds: state.ids,
    })));
    const scored = sequences.filter((sequence) => sequence.completionIds.length > 0);
    const logProbs = scored.length > 0 ? await this.model.tokenLogProbs(scored) : [];
    let next = 0;
    for (const submission of wanting) {
      const outputs = submission.states.map((state) => {
        const output = state.output();
        output.tokenLogProbs = state.ids.length > 0 ? Array.from(logProbs[next++]!) : [];
        return output;
      });
      submission.settled = true;
      submission.resolve(outputs);
    }
  }

  private settle(submission: Submission, error?: unknown): void {
    if (submission.settled) return;
    submission.settled = true;
    if (error !== undefined) submission.reject(error);
    else submission.resolve(submission.states.map((state) => state.output()));
  }
}
