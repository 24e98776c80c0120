// A kernel worker: instantiates kernels.wasm on the shared memory and runs its share of every command in the
// ring, claiming its units one at a time and waiting for the whole command before starting the next.
import { Control, controlWords, type KernelExports, Opcode, slotCount, slotWords, type WorkerStart } from './wasm-protocol';
import { blasUnitRunner, findBlas } from './wasm-blas';
import { runUnits, type UnitRunner } from './wasm-units';

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
  const runner: UnitRunner = { kernels, control, ring, ringOffset: start.ringOffset, scratch: start.scratch, scratchBytes: start.scratchBytes };
  if (start.blasLibrary !== undefined) {
    const blas = findBlas(start.blasLibrary);
    // The device opened this library before starting the worker; a failure here is reported per command.
    if ('symbols' in blas) runner.blas = blasUnitRunner(blas, start.memory);
  }
  postMessage('ready');
  for (let next = 0; ; next++) {
    waitUntilAbove(control, Control.tail, next);
    if (ring[(next % slotCount) * slotWords] === Opcode.stop) break;
    // Units are claimed, not assigned: a worker the OS has descheduled (the main thread shares the cores)
    // delays nobody, it finds the units taken and moves on. Results do not depend on who runs which unit.
    runUnits(runner, next, () => {
      const wake = Atomics.load(control, Control.wakeTicket);
      if (wake !== 0 && next + 1 >= wake && Atomics.compareExchange(control, Control.wakeTicket, wake, 0) === wake) {
        // The host waits either asleep on the ticket (a short wait) or for the message.
        Atomics.notify(control, Control.wakeTicket);
        postMessage('done');
      }
    });
    // The next command may read this one's output: wait until every unit of it has finished.
    waitUntilAbove(control, Control.done, next);
  }
  postMessage('stopped');
}

self.onmessage = (event: MessageEvent<WorkerStart>) => serve(event.data);
