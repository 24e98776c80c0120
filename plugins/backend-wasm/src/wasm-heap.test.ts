// The allocator of the shared memory: first fit, coalescing on release, growth at the end.
import { describe, expect, test } from 'bun:test';
import { blockAlignment, WasmHeap } from './wasm-heap';

describe('WasmHeap', () => {
  test('hands out aligned, disjoint blocks and reuses released ones', () => {
    const heap = new WasmHeap(WasmHeap.createMemory(1 << 20), 1000);
    const a = heap.allocate(10);
    const b = heap.allocate(100);
    const c = heap.allocate(64);
    for (const offset of [a, b, c]) expect(offset % blockAlignment).toBe(0);
    expect(a).toBeGreaterThanOrEqual(1000);
    expect(b).toBeGreaterThanOrEqual(a + 10);
    expect(c).toBeGreaterThanOrEqual(b + 100);
    heap.release(b);
    expect(heap.allocate(128)).toBe(b);
    expect(() => heap.release(b + 1)).toThrow(/no block/);
  });

  test('coalesces neighbours so a freed run serves a larger block', () => {
    const heap = new WasmHeap(WasmHeap.createMemory(1 << 20), 0);
    const blocks = [0, 1, 2, 3].map(() => heap.allocate(256));
    heap.release(blocks[1]!);
    heap.release(blocks[3]!);
    heap.release(blocks[2]!);
    // Blocks 1..3 and the free tail merged: 3 * 256 bytes fit where block 1 was.
    expect(heap.allocate(3 * 256)).toBe(blocks[1]!);
    expect(heap.usedBytes).toBe(4 * 256);
  });

  test('grows the memory when nothing fits, and refuses beyond 4 GiB', () => {
    const heap = new WasmHeap(WasmHeap.createMemory(1 << 16), 0);
    const before = heap.totalBytes;
    const offset = heap.allocate(3 << 20);
    expect(heap.totalBytes).toBeGreaterThan(before);
    expect(offset + (3 << 20)).toBeLessThanOrEqual(heap.totalBytes);
    new Uint8Array(heap.memory.buffer, offset, 3 << 20).fill(7);
    expect(() => heap.allocate(2 ** 32)).toThrow(/out of memory/);
  });
});
