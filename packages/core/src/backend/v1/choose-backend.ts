// Choosing a compute backend: one named, or `auto` for the highest-priority available one. Shared by the runner
// (the run's backend) and by plugins that open a device of their own (a reward-model judge).
import { UnavailableError } from '../../errors';
import type { BackendV1 } from './backend';

export interface ChooseBackendOptions {
  /** Finds a backend by name, throwing its own one-line error when there is none. Default: among `backends`. */
  lookUp?: (name: string) => BackendV1;
  /** Prefix of the error lines, e.g. 'judge reward-model'. */
  label?: string;
}

/**
 * What `auto` takes: the highest-priority backend that is available and not a CPU emulation, and why each one
 * above it was passed over ("webgpu: only llvmpipe, a CPU emulation").
 */
export async function explainAutoChoice(backends: readonly BackendV1[]): Promise<{ chosen: BackendV1 | undefined; reasons: string[] }> {
  const reasons: string[] = [];
  let emulated: BackendV1 | undefined;
  for (const backend of [...backends].sort((a, b) => b.priority - a.priority)) {
    const availability = await backend.checkAvailability();
    if (availability.available && !availability.cpuEmulation) return { chosen: backend, reasons };
    if (availability.available) emulated ??= backend;
    reasons.push(`${backend.name}: ${availability.available ? `only ${availability.reason ?? 'a CPU emulation'}` : availability.reason ?? 'unavailable'}`);
  }
  // Nothing better: an emulation still computes.
  return { chosen: emulated, reasons };
}

export async function chooseAvailableBackend(
  backends: readonly BackendV1[], requested: string, options: ChooseBackendOptions = {},
): Promise<BackendV1> {
  const prefix = options.label ? `${options.label}: ` : '';
  if (requested !== 'auto') {
    const backend = options.lookUp?.(requested) ?? backends.find((candidate) => candidate.name === requested);
    if (!backend) {
      throw new UnavailableError(`${prefix}backend ${requested} is not installed (${backends.map((b) => b.name).join(', ') || 'none'})`, {
        hint: 'pass --backend auto or one of those',
      });
    }
    const availability = await backend.checkAvailability();
    if (!availability.available) {
      throw new UnavailableError(`${prefix}backend ${requested} is not available: ${availability.reason ?? 'no reason given'}`, {
        hint: 'run `bun lsp doctor` to see what is missing, or pass --backend auto',
      });
    }
    return backend;
  }
  const { chosen, reasons } = await explainAutoChoice(backends);
  if (chosen) return chosen;
  throw new UnavailableError(
    `${prefix}${backends.length === 0 ? 'no compute backend is installed' : `no compute backend is available (${reasons.join('; ')})`}`,
    { hint: 'run scripts/setup.sh, then `bun lsp doctor` to see what is missing' },
  );
}
