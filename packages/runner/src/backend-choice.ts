// Picks the compute backend for a run: a name, or `auto` for the highest-priority available one.
import { chooseAvailableBackend, type BackendV1 } from '@lsp/core';
import type { PluginRegistry } from './plugins/plugin-registry';

export async function chooseBackend(registry: PluginRegistry, requested: string): Promise<BackendV1> {
  const backends = registry.components('backends').map(({ component }) => component);
  // A name goes through the registry, whose error names the installed backends and the nearest one.
  return chooseAvailableBackend(backends, requested, { lookUp: (name) => registry.get('backends', name) });
}
