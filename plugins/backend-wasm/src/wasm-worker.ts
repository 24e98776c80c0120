// A kernel worker: instantiates kernels.wasm on the shared memory and runs its share of every command in the
// ring, meeting the other workers at a barrier after each one so that commands see their predecessors' results.
import { Control, controlWords, type KernelExports, Opcode, slotBytes, slotCount, slotWords, type WorkerStart } from './wasm-protocol';

declare const self: Worker;

// Spin this many polls before sleeping: kernels arrive in bursts, and a futex wake costs tens of microseconds.
const spinPolls = 20000;

function waitUntilAbove(control: Int32Array, index: number, value: number): void {
  for (let poll = 0; poll < spinPolls; poll++) {
    if (Atomics.load(control, index) > value) return;
  }
  for (;;) {
    const current = Atomics.load(control, index);
    if (current > value) return;
    Atomics.wait(control, index, current);
  }
}

function serve(start: WorkerStart): void {
  const instance = new WebAssembly.Instance(start.module, { env: { memory: start.memory } });
  const kernels = instance.exports as unknown as KernelExports;
  // Each worker runs on its own stack region of the shared memory.
  kernels.__stack_pointer.value = start.stackTop;
  const control = new Int32Array(start.memory.buffer, start.controlOffset, controlWords);
  const ring = new Uint32Array(start.memory.buffer, start.ringOffset, slotCount * slotWords);
  postMessage('ready');
  for (let next = 0; ; next++) {
    waitUntilAbove(control, Control.tail, next);
    const slot = next % slotCount;
    if (ring[slot * slotWords] === Opcode.stop) break;
    let status: number;
    try {
      status = kernels.run_command(start.ringOffset + slot * slotBytes, start.index, start.count, start.scratch, start.scratchBytes);
    } catch {
      status = -1;
    }
    if (status !== 0) Atomics.compareExchange(control, Control.errorCommand, 0, next + 1) === 0 && Atomics.store(control, Control.errorCode, status);
    const target = (next + 1) * start.count;
    if (Atomics.add(control, Control.done, 1) + 1 === target) Atomics.notify(control, Control.done);
    else waitUntilAbove(control, Control.done, target - 1);
  }
  postMessage('stopped');
}

self.onmessage = (event: MessageEvent<WorkerStart>) => serve(event.data);
