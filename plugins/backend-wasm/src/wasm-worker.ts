// A kernel worker: instantiates kernels.wasm on the shared memory and runs its share of every command in the
// ring, claiming its units one at a time and waiting for the whole command before starting the next.
import {
  claimedWord, Control, controlWords, finishedWord, type KernelExports, Opcode, slotCount, slotWords, unitsWord, type WorkerStart,
} from './wasm-protocol';

declare const self: Worker;

// Spin this many polls (some microseconds) before sleeping: kernels arrive in bursts and a futex wake costs tens
// of microseconds, but a longer spin takes the core from the main thread, which shares the cores with the
// workers (generation on 2 loaded cores ran about 15% faster with 2000 polls than with 20000).
const spinPolls = 2000;

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
  const ring = new Int32Array(start.memory.buffer, start.ringOffset, slotCount * slotWords);
  postMessage('ready');
  for (let next = 0; ; next++) {
    waitUntilAbove(control, Control.tail, next);
    const base = (next % slotCount) * slotWords;
    if (ring[base] === Opcode.stop) break;
    // Units are claimed, not assigned: a worker the OS has descheduled (the main thread shares the cores)
    // delays nobody, it finds the units taken and moves on. Results do not depend on who runs which unit.
    const sequence = next & 0xffffff;
    for (;;) {
      const claim = Atomics.load(ring, base + claimedWord);
      if (claim >>> 8 !== sequence) break;
      const unit = claim & 0xff;
      const units = ring[base + unitsWord]!;
      if (unit >= units) break;
      if (Atomics.compareExchange(ring, base + claimedWord, claim, claim + 1) !== claim) continue;
      let status: number;
      try {
        status = kernels.run_command(start.ringOffset + base * 4, unit, units, start.scratch, start.scratchBytes);
      } catch {
        status = -1;
      }
      if (status !== 0 && Atomics.compareExchange(control, Control.errorCommand, 0, next + 1) === 0) {
        Atomics.store(control, Control.errorCode, status);
      }
      if (Atomics.add(ring, base + finishedWord, 1) + 1 === units) {
        Atomics.store(control, Control.done, next + 1);
        Atomics.notify(control, Control.done);
        const wake = Atomics.load(control, Control.wakeTicket);
        if (wake !== 0 && next + 1 >= wake && Atomics.compareExchange(control, Control.wakeTicket, wake, 0) === wake) {
          // The host waits either asleep on the ticket (a short wait) or for the message.
          Atomics.notify(control, Control.wakeTicket);
          postMessage('done');
        }
      }
    }
    // The next command may read this one's output: wait until every unit of it has finished.
    waitUntilAbove(control, Control.done, next);
  }
  postMessage('stopped');
}

self.onmessage = (event: MessageEvent<WorkerStart>) => serve(event.data);
