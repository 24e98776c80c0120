// The shared WebAssembly.Memory the kernels run on, and a first-fit allocator of its bytes for tensors,
// worker stacks and scratch. Rust never allocates: every buffer is carved out here.

const pageBytes = 65536;
/** wasm32 addresses 4 GiB; kernels.wasm is linked with that maximum (crates/build.sh). */
export const maximumPages = 65536;
/** Every block starts on a cache line, which also keeps SIMD loads aligned. */
export const blockAlignment = 64;

interface FreeBlock {
  offset: number;
  bytes: number;
}

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  /** Free blocks sorted by offset, never adjacent (coalesced). */
  private readonly freeBlocks: FreeBlock[] = [];
  private readonly blockSizes = new Map<number, number>();
  private allocatedBytes = 0;
  /** Every byte at or above this offset has never been handed out, so it still holds zeros. */
  private untouchedFrom = 0;

  /** A shared memory of at least `bytes` bytes that kernels.wasm can import. */
  static createMemory(bytes: number): WebAssembly.Memory {
    const pages = Math.min(maximumPages, Math.max(1, Math.ceil(bytes / pageBytes)));
    return new WebAssembly.Memory({ initial: pages, maximum: maximumPages, shared: true });
  }

  /** `start` is the first byte the heap may use (above the module's static data and main stack). */
  constructor(memory: WebAssembly.Memory, start: number) {
    this.memory = memory;
    const first = alignUp(start, blockAlignment);
    const end = memory.buffer.byteLength;
    if (first < end) this.freeBlocks.push({ offset: first, bytes: end - first });
    // Instantiation writes static data only below heap_base; a fresh or grown memory is zero above it.
    this.untouchedFrom = first;
  }



  /** Bytes handed out and not yet released. */
  get usedBytes(): number {
    return this.allocatedBytes;
  }

  get totalBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Returns the offset of a block of at least `bytes` bytes, growing the memory when no free block fits. */
  allocate(bytes: number): number {
    return this.allocateZeroKnown(bytes).offset;
  }

  /** Allocates like `allocate`, and tells whether the block is known to hold zeros (never handed out before). */
  allocateZeroKnown(bytes: number): { offset: number; zeroed: boolean } {
    const size = alignUp(Math.max(bytes, 1), blockAlignment);
    let index = this.freeBlocks.findIndex((block) => block.bytes >= size);
    if (index < 0) index = this.grow(size);
    const block = this.freeBlocks[index]!;
    const offset = block.offset;
    if (block.bytes === size) this.freeBlocks.splice(index, 1);
    else {
      block.offset += size;
      block.bytes -= size;
    }
    this.blockSizes.set(offset, size);
    this.allocatedBytes += size;
    const zeroed = offset >= this.untouchedFrom;
    if (offset + size > this.untouchedFrom) this.untouchedFrom = offset + size;
    return { offset, zeroed };
  }

  release(offset: number): void {
    const size = this.blockSizes.get(offset);
    if (size === undefined) throw new Error(`wasm heap: no block at ${offset} (released twice?)`);
    this.blockSizes.delete(offset);
    this.allocatedBytes -= size;
    // Insert in offset order, then merge with the neighbours.
    let low = 0;
    let high = this.freeBlocks.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.freeBlocks[middle]!.offset < offset) low = middle + 1;
      else high = middle;
    }
    this.freeBlocks.splice(low, 0, { offset, bytes: size });
    const next = this.freeBlocks[low + 1];
    const current = this.freeBlocks[low]!;
    if (next && current.offset + current.bytes === next.offset) {
      current.bytes += next.bytes;
      this.freeBlocks.splice(low + 1, 1);
    }
    const previous = this.freeBlocks[low - 1];
    if (previous && previous.offset + previous.bytes === current.offset) {
      previous.bytes += current.bytes;
      this.freeBlocks.splice(low, 1);
    }
  }

  /** Grows the memory so that a block of `size` bytes fits at its end; returns that free block's index. */
  private grow(size: number): number {
    const end = this.memory.buffer.byteLength;
    const last = this.freeBlocks[this.freeBlocks.length - 1];
    const tail = last && last.offset + last.bytes === end ? last : undefined;
    const missing = size - (tail ? tail.bytes : 0);
    // Grow by at least a quarter of the current size, so that many small tensors do not grow page by page.
    const wanted = Math.max(Math.ceil(missing / pageBytes), Math.ceil(end / pageBytes / 4));
    const available = maximumPages - end / pageBytes;
    const pages = Math.min(wanted, available);
    if (pages * pageBytes < missing) {
      throw new RangeError(
        `wasm backend: out of memory (${size} bytes wanted, ${this.allocatedBytes} in use of the 4 GiB wasm32 limit)`,
      );
    }
    this.memory.grow(pages);
    if (tail) tail.bytes += pages * pageBytes;
    else this.freeBlocks.push({ offset: end, bytes: pages * pageBytes });
    return this.freeBlocks.length - 1;
  }
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
