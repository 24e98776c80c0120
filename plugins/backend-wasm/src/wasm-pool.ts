// The pool of kernel workers and the command ring they share: the device enqueues commands without waiting,
// every worker runs its share of each command in order, and the host waits only when it reads results.
import { fileURLToPath } from 'node:url';
import { WasmHeap, alignUp } from './wasm-heap';
import { type BlasLibrary, blasUnitRunner } from './wasm-blas';
import { runUnits, type UnitRunner } from './wasm-units';
import {
  claimedWord, commandWords, Control, maximumUnits, controlWords, finishedWord, type KernelExports, Opcode, slotBytes, slotCount, slotWords,
  Status, unitsWord, type WorkerStart,
} from './wasm-protocol';

export interface KernelPoolOptions {
  /** Kernel workers; each runs its share of every command. */
  threads: number;
  /** Private scratch of each worker (matmul packing, sampling rows). */
  scratchBytes: number;
  /** Stack of each worker. */
  stackBytes: number;
  /** Memory reserved at start; it grows on demand up to 4 GiB. */
  initialBytes: number;
  /** Whether `wait` runs units itself (else it polls) during its first shortWaitMs. */
  hostRunsUnits: boolean;
  /** OpenBLAS for blasMatmul commands, when the device uses it. */
  blas?: BlasLibrary;
}

/**
 * How long `wait` first waits on the spot before it yields to the event loop and lets a worker's message wake
 * it. Here a message wake took about 110 us, a futex wake about 60 us and polling about 1 us, against about
 * 750 us for a 256^3 product on one worker and a few milliseconds for a decoding step. The event loop is held
 * at most this long per wait, and the unit the host is running when the time is up.
 */
const shortWaitMs = 2;

/** Atomics.pause (a recent addition to JavaScript, in Bun's JavaScriptCore), typed here because the project's lib predates it. */
const pause: () => void = (Atomics as unknown as { pause?: () => void }).pause?.bind(Atomics) ?? (() => {});

/** Covers the module's static data and main stack (1 MiB), which sit below heap_base. */
const minimumMemoryBytes = 4 << 20;

let modulePromise: Promise<WebAssembly.Module> | undefined;

/** Where crates/build.sh puts the kernel module (in the @lsp/crates package). */
export function kernelModulePath(): string {
  return fileURLToPath(import.meta.resolve('@lsp/crates/wasm/kernels.wasm'));
}

/** Compiles kernels.wasm once per process. */
export function loadKernelModule(): Promise<WebAssembly.Module> {
  modulePromise ??= (async () => {
    const path = kernelModulePath();
    const file = Bun.file(path);
    if (!(await file.exists())) {
      throw new Error(`wasm backend: ${path} is missing; run \`bun run build\` (crates/build.sh builds it)`);
    }
    return WebAssembly.compile(await file.arrayBuffer());
  })();
  return modulePromise;
}

const floatView = new Float32Array(1);
const floatBitsView = new Uint32Array(floatView.buffer);

/** The bit pattern of `value` rounded to float32, for a command word. */
export function floatBits(value: number): number {
  floatView[0] = value;
  return floatBitsView[0]!;
}

const statusMessages: Record<number, string> = {
  [-1]: 'the kernel trapped (an out-of-bounds access or a bug in the kernel)',
  [Status.unknownOpcode]: 'unknown opcode (kernels.wasm is older than the device; rebuild with `bun run build`)',
  [Status.indexOutOfRange]: 'an index (token id, target or position) is out of range',
  [Status.scratchTooSmall]: 'the worker scratch is too small for this shape (raise the scratchBytes option)',
};

export class KernelFailure extends Error {
  constructor(readonly command: number, readonly status: number) {
    super(`wasm backend: kernel command #${command} failed: ${statusMessages[status] ?? `status ${status}`}`);
    this.name = 'KernelFailure';
  }
}

export class KernelPool {
  readonly heap: WasmHeap;
  readonly threads: number;
  readonly scratchBytes: number;
  private readonly control: Int32Array;
  private readonly ring: Uint32Array;
  private readonly ringOffset: number;
  private readonly workers: Worker[];
  /** Commands enqueued so far (the next command's number). */
  private tail = 0;
  private stopped = false;
  /** Set when a worker died: the queue would never drain, so every wait fails instead of hanging. */
  private workerFailure: string | undefined;
  /** Pending waits, woken together by a worker's 'done' message. */
  private readonly waiters: (() => void)[] = [];

  private constructor(
    heap: WasmHeap, threads: number, scratchBytes: number, controlOffset: number, ringOffset: number, workers: Worker[],
    /** The host's instance when it runs units while it waits; it polls otherwise. */
    private readonly host: UnitRunner | undefined,
  ) {
    this.heap = heap;
    this.threads = threads;
    this.scratchBytes = scratchBytes;
    this.control = new Int32Array(heap.memory.buffer, controlOffset, controlWords);
    this.ring = new Uint32Array(heap.memory.buffer, ringOffset, slotCount * slotWords);
    this.ringOffset = ringOffset;
    this.workers = workers;
    for (const worker of workers) {
      worker.onmessage = (event) => {
        if (event.data === 'done') this.wakeAll();
      };
      worker.onerror = (event) => {
        this.workerFailure ??= `a kernel worker failed: ${event.message}`;
        this.wakeAll();
      };
      worker.addEventListener('close', () => {
        if (!this.stopped) this.workerFailure ??= 'a kernel worker exited';
        this.wakeAll();
      });
    }
  }

  static async create(options: KernelPoolOptions): Promise<KernelPool> {
    const module = await loadKernelModule();
    // This instance initialises the static data once and tells where it ends; it never runs a kernel.
    const memory = WasmHeap.createMemory(Math.max(options.initialBytes, minimumMemoryBytes));
    // It runs units too, on the module's own stack, when the host waits with no core to spare (`wait`).
    const main = new WebAssembly.Instance(module, { env: { memory } });
    const mainKernels = main.exports as unknown as KernelExports;
    const heap = new WasmHeap(memory, mainKernels.heap_base());
    const controlOffset = heap.allocate(controlWords * 4);
    const ringOffset = heap.allocate(slotCount * slotBytes);
    const workerUrl = new URL(import.meta.url.endsWith('.ts') ? './wasm-worker.ts' : './wasm-worker.js', import.meta.url);
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    for (let index = 0; index < options.threads; index++) {
      const stack = heap.allocate(options.stackBytes);
      const scratch = heap.allocate(options.scratchBytes);
      const worker = new Worker(workerUrl);
      workers.push(worker);
      ready.push(new Promise<void>((resolve, reject) => {
        worker.onmessage = (event) => event.data === 'ready' && resolve();
        worker.onerror = (event) => reject(new Error(`wasm backend: kernel worker failed to start: ${event.message}`));
      }));
      const start: WorkerStart = {
        module, memory: heap.memory, index, count: options.threads,
        // The stack grows down from the top of its region, kept 16-byte aligned.
        stackTop: alignUp(stack + options.stackBytes - 16, 16) - 16,
        scratch, scratchBytes: options.scratchBytes, controlOffset, ringOffset,
        ...(options.blas ? { blasLibrary: options.blas.library } : {}),
      };
      worker.postMessage(start);
    }
    try {
      await Promise.all(ready);
    } catch (error) {
      for (const worker of workers) worker.terminate();
      throw error;
    }
    // Workers must never keep the process alive; they are referenced only while starting.
    for (const worker of workers) worker.unref();
    const host: UnitRunner | undefined = options.hostRunsUnits
      ? {
        kernels: mainKernels, control: new Int32Array(heap.memory.buffer, controlOffset, controlWords),
        ring: new Int32Array(heap.memory.buffer, ringOffset, slotCount * slotWords), ringOffset,
        scratch: heap.allocate(options.scratchBytes), scratchBytes: options.scratchBytes,
        ...(options.blas ? { blas: blasUnitRunner(options.blas, heap.memory) } : {}),
      }
      : undefined;
    return new KernelPool(heap, options.threads, options.scratchBytes, controlOffset, ringOffset, workers, host);
  }

  /** Number of commands complete. */
  completed(): number {
    return Atomics.load(this.control, Control.done);
  }

  /** Commands enqueued so far; waiting for this number waits for all of them. */
  get enqueued(): number {
    return this.tail;
  }

  /**
   * Appends a command (opcode and argument words) cut into `units` work units, which the workers claim one at a
   * time; returns its number + 1, the ticket to wait for.
   */
  enqueue(words: readonly number[], units = 1): number {
    if (this.stopped) throw new Error('wasm backend: the device was disposed');
    if (words.length > commandWords) throw new Error(`wasm backend: command of ${words.length} words`);
    if (this.tail - this.completed() >= slotCount) this.waitSync(this.tail - slotCount + 1);
    const base = (this.tail % slotCount) * slotWords;
    for (let index = 0; index < words.length; index++) this.ring[base + index] = words[index]! >>> 0;
    this.ring[base + unitsWord] = Math.min(maximumUnits, Math.max(1, units));
    this.ring[base + claimedWord] = ((this.tail & 0xffffff) << 8) >>> 0;
    this.ring[base + finishedWord] = 0;
    this.tail++;
    Atomics.store(this.control, Control.tail, this.tail);
    Atomics.notify(this.control, Control.tail);
    return this.tail;
  }

  /** Blocks the calling thread until `ticket` commands are complete. */
  waitSync(ticket: number): void {
    for (;;) {
      const done = Atomics.load(this.control, Control.done);
      if (done >= ticket || this.workerFailure) break;
      Atomics.wait(this.control, Control.done, done, 50);
    }
    this.throwIfFailed();
  }

  /**
   * Resolves when `ticket` commands are complete. For up to shortWaitMs it waits on the spot: when the workers
   * take every core it runs units of the awaited commands itself, as OpenBLAS's calling thread does, so that a
   * short product ends without a wake, and then sleeps on the wake ticket (which only the worker completing the
   * awaited command changes) for what is left of shortWaitMs; when a core is free it polls instead (with
   * Atomics.pause, as OpenBLAS's idle threads spin). After that it yields to the event loop until that worker's
   * 'done' message.
   */
  async wait(ticket: number): Promise<void> {
    const until = performance.now() + shortWaitMs;
    if (this.host) {
      this.help(this.host, ticket, until);
    } else {
      for (let poll = 1; Atomics.load(this.control, Control.done) < ticket && !this.workerFailure && !this.stopped; poll++) {
        pause();
        if (poll % 64 === 0 && performance.now() >= until) break;
      }
    }
    for (;;) {
      if (Atomics.load(this.control, Control.done) >= ticket || this.workerFailure) break;
      if (this.stopped) throw new Error('wasm backend: the device was disposed while a read waited');
      // Publish the ticket, then look again: either this look sees the command complete or the worker
      // completing it sees the ticket, clears it, notifies and posts 'done' (sequentially consistent atomics).
      let published: number;
      for (;;) {
        published = Atomics.load(this.control, Control.wakeTicket);
        if (published !== 0 && published <= ticket) break;
        if (Atomics.compareExchange(this.control, Control.wakeTicket, published, ticket) === published) {
          published = ticket;
          break;
        }
      }
      if (Atomics.load(this.control, Control.done) >= ticket) break;
      const left = until - performance.now();
      if (this.host && left > 0) Atomics.wait(this.control, Control.wakeTicket, published, left);
      else await this.nextWake();
    }
    this.throwIfFailed();
  }

  /**
   * Runs units of the commands up to `ticket` on this thread, in order, as a worker does, until they are done or
   * `until` has passed (a unit already started is finished).
   */
  private help(host: UnitRunner, ticket: number, until: number): void {
    for (;;) {
      const done = Atomics.load(this.control, Control.done);
      if (done >= ticket || this.workerFailure || this.stopped || performance.now() >= until) return;
      runUnits(host, done, () => {});
      // Every unit of command `done` is taken; the next may read its output, so wait for the others to finish.
      for (let poll = 1; Atomics.load(this.control, Control.done) <= done; poll++) {
        pause();
        if (poll % 64 === 0 && performance.now() >= until) return;
      }
    }
  }

  /** Resolves on the next 'done' message (or after a while, as a guard), holding the process alive meanwhile. */
  private nextWake(): Promise<void> {
    if (this.waiters.length === 0) for (const worker of this.workers) worker.ref();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wakeAll(), 100);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wakeAll(): void {
    const waiters = this.waiters.splice(0);
    if (waiters.length > 0 && !this.stopped) for (const worker of this.workers) worker.unref();
    for (const wake of waiters) wake();
  }

  private throwIfFailed(): void {
    if (this.workerFailure) throw new Error(`wasm backend: ${this.workerFailure}; create a new device`);
    const command = Atomics.load(this.control, Control.errorCommand);
    if (command === 0) return;
    const status = Atomics.load(this.control, Control.errorCode);
    // Reported once: the commands after a failed one still ran, and the device stays usable.
    Atomics.store(this.control, Control.errorCommand, 0);
    throw new KernelFailure(command - 1, status);
  }

  /** Stops the workers; commands still queued are dropped. */
  dispose(): void {
    if (this.stopped) return;
    this.enqueue([Opcode.stop]);
    this.stopped = true;
    for (const worker of this.workers) worker.terminate();
  }
}
