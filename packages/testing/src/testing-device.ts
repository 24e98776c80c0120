// A backend's device against the oracle: every standard kernel case of @lsp/oracle (transposes, batches,
// accumulation, grouped-query heads, KV-cache offsets, padding, sampling) run on both and compared.
import type { DeviceV1 } from '@lsp/core';
import { compareWithOracle, float32Tolerance, kernelCases, type Comparison, type Tolerance } from '@lsp/oracle';

export interface DeviceCheck {
  /** Whether every case matched the oracle within the tolerance (integer outputs exactly). */
  passed: boolean;
  comparisons: Comparison[];
  /** One line per failing output, empty when all passed: print it in the test's message. */
  summary: string;
}

export interface DeviceCheckOptions {
  /** Default float32's: |x - oracle| <= 1e-5 + 1e-4 |oracle|. */
  tolerance?: Tolerance;
  /** Seeds the cases' inputs. Default 1. */
  seed?: number;
}

/** Runs every standard kernel case on `device` and on the float64 oracle and compares the outputs. */
export async function checkDevice(device: DeviceV1, options: DeviceCheckOptions = {}): Promise<DeviceCheck> {
  const comparisons: Comparison[] = [];
  for (const kernelCase of kernelCases(options.seed ?? 1)) {
    comparisons.push(await compareWithOracle(device, kernelCase, options.tolerance ?? float32Tolerance));
  }
  const failing = comparisons.filter((comparison) => !comparison.passed);
  return { passed: failing.length === 0, comparisons, summary: failing.map((comparison) => comparison.summary).join('\n') };
}
