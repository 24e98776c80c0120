// Running a command's work units: a kernel worker does it for every command, and the host does it for the
// commands it waits for (wasm-pool.ts). Units are claimed, not assigned, so whoever is free takes the next one.
import type { BlasUnitRunner } from './wasm-blas';
import { claimedWord, Control, finishedWord, type KernelExports, Opcode, slotCount, slotWords, unitsWord } from './wasm-protocol';

export interface UnitRunner {
  kernels: KernelExports;
  control: Int32Array;
  ring: Int32Array;
  ringOffset: number;
  scratch: number;
  scratchBytes: number;
  /** Runs the units of blasMatmul commands, when the device uses OpenBLAS. */
  blas?: BlasUnitRunner;
}

/**
 * Claims and runs the units of command `next` that nobody has claimed, until none is left; records a failing
 * status, and when it finishes the command's last unit marks the command done, wakes the sleepers on `done` and
 * calls `completed`.
 */
export function runUnits(runner: UnitRunner, next: number, completed: () => void): void {
  const { kernels, control, ring } = runner;
  const base = (next % slotCount) * slotWords;
  // A runner that was paused while the ring wrapped around finds a later command in the slot and leaves it.
  const sequence = next & 0xffffff;
  for (;;) {
    const claim = Atomics.load(ring, base + claimedWord);
    if (claim >>> 8 !== sequence) return;
    const unit = claim & 0xff;
    const units = ring[base + unitsWord]!;
    if (unit >= units) return;
    if (Atomics.compareExchange(ring, base + claimedWord, claim, claim + 1) !== claim) continue;
    let status: number;
    const stackPointer = kernels.__stack_pointer.value as number;
    try {
      if (ring[base] === Opcode.blasMatmul) {
        if (!runner.blas) throw new Error('blasMatmul without OpenBLAS');
        runner.blas(ring, base + 1, unit);
        status = 0;
      } else {
        status = kernels.run_command(runner.ringOffset + base * 4, unit, units, runner.scratch, runner.scratchBytes);
      }
    } catch {
      // A trap leaves the stack pointer where the failing call had moved it.
      kernels.__stack_pointer.value = stackPointer;
      status = -1;
    }
    if (status !== 0 && Atomics.compareExchange(control, Control.errorCommand, 0, next + 1) === 0) {
      Atomics.store(control, Control.errorCode, status);
    }
    if (Atomics.add(ring, base + finishedWord, 1) + 1 === units) {
      Atomics.store(control, Control.done, next + 1);
      Atomics.notify(control, Control.done);
      completed();
    }
  }
}
