// Matrix products on a kept BLAS: OpenBLAS's cblas_sgemm called through bun:ffi on the shared memory the wasm
// kernels use (a pointer into it is an ordinary pointer), one single-threaded call per work unit, so the kernel
// workers give the parallelism and every other operation stays in wasm. Without the library the wasm matmul runs.
import type { Pointer } from 'bun:ffi';
import { existsSync } from 'node:fs';
import { MatmulFlag } from './wasm-protocol';

/** Where OpenBLAS is looked for: the loader's search path first (Debian's libopenblas0), then Homebrew's. */
const candidateLibraries = [
  'libopenblas.so.0', 'libopenblas.so', 'libopenblas.dylib',
  '/opt/homebrew/opt/openblas/lib/libopenblas.dylib', '/usr/local/opt/openblas/lib/libopenblas.dylib',
];

const cblasRowMajor = 101;
const cblasNoTrans = 111;
const cblasTrans = 112;

const symbols = {
  cblas_sgemm: {
    args: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'ptr', 'i32', 'ptr', 'i32', 'f32', 'ptr', 'i32'],
    returns: 'void',
  },
  openblas_set_num_threads: { args: ['i32'], returns: 'void' },
  openblas_get_config: { args: [], returns: 'cstring' },
} as const;

type Ffi = typeof import('bun:ffi');
type OpenBlasSymbols = ReturnType<typeof import('bun:ffi').dlopen<typeof symbols>>['symbols'];

/** bun:ffi, loaded only under Bun (and only when a BLAS is looked for), so the module also loads in browsers. */
function ffi(): Ffi {
  return require('bun:ffi') as Ffi;
}

/** An opened OpenBLAS, set to one thread per call. */
export interface BlasLibrary {
  /** What was opened: the name given to dlopen. */
  library: string;
  /** e.g. 'OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64'. */
  config: string;
  symbols: OpenBlasSymbols;
}

const opened = new Map<string, BlasLibrary>();

function open(library: string): BlasLibrary {
  let found = opened.get(library);
  if (!found) {
    const handle = ffi().dlopen(library, symbols);
    // The workers split the products; OpenBLAS's own threads would compete with them for the cores.
    handle.symbols.openblas_set_num_threads(1);
    found = { library, config: String(handle.symbols.openblas_get_config()).trim(), symbols: handle.symbols };
    opened.set(library, found);
  }
  return found;
}

/**
 * Finds OpenBLAS: `library` (a path or a name for the loader) when given, else the usual names. Returns the
 * library, or why there is none, in words a user can act on.
 */
export function findBlas(library?: string): BlasLibrary | { reason: string } {
  if (typeof Bun === 'undefined') return { reason: 'bun:ffi needs Bun' };
  if (library !== undefined) {
    try {
      return open(library);
    } catch (error) {
      return { reason: `cannot open ${library} as OpenBLAS (${String((error as Error).message).split('\n')[0]})` };
    }
  }
  for (const candidate of candidateLibraries) {
    if (candidate.startsWith('/') && !existsSync(candidate)) continue;
    try {
      return open(candidate);
    } catch {
      // Not this one; try the next name.
    }
  }
  return { reason: 'OpenBLAS not found (on Debian: apt-get install libopenblas0-pthread)' };
}

/** How a product is cut into units: fixed by its shape alone, so results do not depend on the thread count. */
export interface BlasSplit {
  /** Split the rows of the output (else its columns). */
  byRows: boolean;
  /** Rows or columns per unit. */
  block: number;
  units: number;
}

/**
 * Multiply-adds per unit the split aims at: large enough that a call's fixed costs (packing, the call) stay small
 * (a 256^3 product on one worker ran at 74 GFLOP/s in 8 units, 81 in 4, 88 in 2, numpy at 101), while products
 * from 2M multiply-adds up (decoding's projections) still get two units for two workers.
 */
const workPerUnit = 1 << 22;
const twoUnitsFrom = 1 << 21;
const maximumBlasUnits = 8;

/**
 * Splits the longer of the output's rows and columns: a row unit packs all of op(B) again and a column unit all
 * of op(A), so splitting the longer side repacks the smaller operand.
 */
export function blasSplit(m: number, n: number, k: number, batch: number): BlasSplit {
  const byRows = m >= n;
  const length = byRows ? m : n;
  const work = batch * m * n * k;
  const wanted = Math.min(maximumBlasUnits, Math.max(work >= twoUnitsFrom ? 2 : 1, Math.round(work / workPerUnit)));
  const block = Math.ceil(length / wanted / 16) * 16;
  return { byRows, block, units: Math.ceil(length / block) };
}

const floatOfBits = new Float32Array(1);
const bitsOfFloat = new Int32Array(floatOfBits.buffer);

/** Runs unit `unit` of a blasMatmul command whose argument words start at `words[at]` (after the opcode). */
export type BlasUnitRunner = (words: Int32Array, at: number, unit: number) => void;

/**
 * A unit runner for one thread: products on `memory`, whose address is fixed for its life (a shared
 * WebAssembly.Memory never moves). Words: A, B and out offsets, M, N, K, flags, batch, alpha's bits, byRows, block.
 */
export function blasUnitRunner(blas: BlasLibrary, memory: WebAssembly.Memory): BlasUnitRunner {
  const base = ffi().ptr(new Uint8Array(memory.buffer));
  const sgemm = blas.symbols.cblas_sgemm;
  return (words, at, unit) => {
    const [a, b, out] = [words[at]! >>> 0, words[at + 1]! >>> 0, words[at + 2]! >>> 0];
    const [m, n, k, flags, batch] = [words[at + 3]!, words[at + 4]!, words[at + 5]!, words[at + 6]!, words[at + 7]!];
    bitsOfFloat[0] = words[at + 8]!;
    const alpha = floatOfBits[0]!;
    const [byRows, block] = [words[at + 9] === 1, words[at + 10]!];
    const transposeA = (flags & MatmulFlag.transposeA) !== 0;
    const transposeB = (flags & MatmulFlag.transposeB) !== 0;
    const beta = flags & MatmulFlag.accumulate ? 1 : 0;
    const start = unit * block;
    const end = Math.min(byRows ? m : n, start + block);
    if (end <= start) return;
    const lda = transposeA ? m : k;
    const ldb = transposeB ? k : n;
    for (let entry = 0; entry < batch; entry++) {
      let left = base + a + entry * m * k * 4;
      let right = base + b + (flags & MatmulFlag.broadcastB ? 0 : entry * k * n * 4);
      let result = base + out + entry * m * n * 4;
      let rows = m;
      let columns = n;
      if (byRows) {
        left += (transposeA ? start : start * k) * 4;
        result += start * n * 4;
        rows = end - start;
      } else {
        right += (transposeB ? start * k : start) * 4;
        result += start * 4;
        columns = end - start;
      }
      sgemm(
        cblasRowMajor, transposeA ? cblasTrans : cblasNoTrans, transposeB ? cblasTrans : cblasNoTrans,
        rows, columns, k, alpha, left as Pointer, lda, right as Pointer, ldb, beta, result as Pointer, n,
      );
    }
  };
}
