// Picks the compute backend for a run: a name, or `auto` for the highest-priority available one.
import { UnavailableError, type BackendV1 } from '@lsp/core';
import type { PluginRegistry } from './plugins/plugin-registry';

export async function chooseBackend(registry: PluginRegistry, requested: string): Promise<BackendV1> {
  const backends = registry.components('backends').map(({ component }) => component);
  if (requested !== 'auto') {
    const backend = registry.get('backends', requested);
    const availability = await backend.checkAvailability();
    if (!availability.available) {
      throw new UnavailableError(`backend ${requested} is not available: ${availability.reason ?? 'no reason given'}`, {
        hint: 'run `bun lsp doctor` to see what is missing, or pass --backend auto',
      });
    }
    return backend;
  }
  const reasons: string[] = [];
  for (const backend of [...backends].sort((a, b) => b.priority - a.priority)) {
    const availability = await backend.checkAvailability();
    if (availability.available) return backend;
    reasons.push(`${backend.name}: ${availability.reason ?? 'unavailable'}`);
  }
  throw new UnavailableError(
    backends.length === 0 ? 'no compute backend is installed' : `no compute backend is available (${reasons.join('; ')})`,
    { hint: 'run scripts/setup.sh, then `bun lsp doctor` to see what is missing' },
  );
}
