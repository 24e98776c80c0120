// The command protocol shared by the device (main thread), the workers and crates/kernels/src/command.rs:
// opcodes, the ring of command slots and the control words, all living in the shared memory.

/** Opcodes; the numbers must match crates/kernels/src/command.rs. */
export const Opcode = {
  stop: 0,
  fill: 1,
  copy: 2,
  matmul: 3,
  add: 4,
  scale: 5,
  rmsnormForward: 6,
  rmsnormBackward: 7,
  rope: 8,
  attentionForward: 9,
  attentionBackward: 10,
  swigluForward: 11,
  swigluBackward: 12,
  embeddingForward: 13,
  embeddingBackward: 14,
  tokenLogProbsForward: 15,
  tokenLogProbsBackward: 16,
  sumOfSquares: 17,
  adamw: 18,
  sample: 19,
  sumRows: 20,
  copyRows: 21,
  /** All of a matmul's B packed once into a buffer that every unit of the next command reads. */
  packB: 22,
  multiply: 23,
  /**
   * A matmul on OpenBLAS (wasm-blas.ts), run by the workers in TypeScript, never by run_command: A, B and out
   * offsets, M, N, K, flags, batch, alpha's bits, 1 to split rows (else columns), rows or columns per unit.
   */
  blasMatmul: 100,
} as const;

/** Status codes of run_command (command.rs). */
export const Status = { ok: 0, unknownOpcode: 1, indexOutOfRange: 2, scratchTooSmall: 3 } as const;

/** Matmul flag bits (command.rs). */
export const MatmulFlag = { transposeA: 1, transposeB: 2, broadcastB: 4, accumulate: 8, sharedB: 16 } as const;

/** matmul.rs: the micro-kernel's rows and columns, and the rows below which B stored (N, K) is not packed. */
export const matmulTile = { rows: 6, columns: 8, dotRows: 16 } as const;

/** Words per command slot: the command (opcode and arguments), then three words of work accounting. */
export const slotWords = 32;
export const slotBytes = slotWords * 4;
/** Words a command may use (opcode included). */
export const commandWords = 29;
/** Slot word holding the number of work units the command is cut into (run_command's `parts`). */
export const unitsWord = 29;
/**
 * Slot word for claiming units: (command number mod 2^24) << 8 | units claimed so far, set by the host and
 * advanced by compare-and-swap. The command number lets a worker that was paused while the ring wrapped
 * around see that the slot now holds a later command, instead of running it out of order.
 */
export const claimedWord = 30;
/** At most this many units per command (the claim count has 8 bits). */
export const maximumUnits = 255;
/** Slot word counting units finished, zeroed by the host; the worker finishing the last completes the command. */
export const finishedWord = 31;
/** Commands that may be in flight before the device waits for the workers. */
export const slotCount = 4096;

/** Indices of the control words (Int32). */
export const Control = {
  /** Commands enqueued so far. */
  tail: 0,
  /** Commands complete so far (every unit of each has run). */
  done: 1,
  /** First failing command's number + 1 (0: none). */
  errorCommand: 2,
  /** That command's status from run_command (or -1 for a trap). */
  errorCode: 3,
  /**
   * The host waits for this many commands (0: not waiting); the worker completing the command that reaches
   * it clears the word, notifies it and posts 'done'. (Bun's Atomics.waitAsync keeps a core busy while it waits.)
   */
  wakeTicket: 4,
} as const;
export const controlWords = 16;

/** Sum-of-squares partials are taken over fixed chunks of this many elements, whatever the thread count. */
export const sumOfSquaresChunk = 16384;

/** What the main thread posts to a worker to start it. */
export interface WorkerStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  index: number;
  count: number;
  stackTop: number;
  scratch: number;
  scratchBytes: number;
  controlOffset: number;
  ringOffset: number;
  /** OpenBLAS to open for blasMatmul commands (wasm-blas.ts), when the device uses it. */
  blasLibrary?: string;
}

/** Exports of kernels.wasm. */
export interface KernelExports {
  __stack_pointer: WebAssembly.Global;
  heap_base(): number;
  run_command(command: number, part: number, parts: number, scratch: number, scratchBytes: number): number;
}
