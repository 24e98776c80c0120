// Loads the plugins of a run (explicit ones from the config and --plugin, and installed ones found by keyword)
// and indexes their components by kind and name.
import { PluginError, componentKinds, type ComponentKind, type PluginComponentsV1, type PluginV1 } from '@lsp/core';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkCorePeerRange, findPluginManifest } from './plugin-compatibility';
import { discoverInstalledPlugins, resolvePluginModule } from './plugin-resolution';
import { errorText, pluginFromModule, validatePlugin } from './plugin-validation';

type ComponentOf<K extends ComponentKind> = NonNullable<PluginComponentsV1[K]>[number];

export interface LoadedPlugin {
  plugin: PluginV1;
  /** Where it came from: lsp.config.ts, a --plugin flag, or an installed package found by its keyword. */
  origin: 'config' | 'flag' | 'installed';
}

export interface PluginLoadWarning {
  plugin: string;
  message: string;
}

export class PluginRegistry {
  readonly plugins: LoadedPlugin[] = [];
  readonly warnings: PluginLoadWarning[] = [];

  add(plugin: PluginV1, origin: LoadedPlugin['origin']): void {
    if (this.plugins.some((loaded) => loaded.plugin.name === plugin.name)) return;
    this.plugins.push({ plugin, origin });
  }

  /** Every component of a kind, with the plugin that contributes it; the first plugin to name one wins. */
  components<K extends ComponentKind>(kind: K): { component: ComponentOf<K>; plugin: PluginV1 }[] {
    const seen = new Set<string>();
    const result: { component: ComponentOf<K>; plugin: PluginV1 }[] = [];
    for (const { plugin } of this.plugins) {
      for (const component of (plugin[kind] ?? []) as readonly ComponentOf<K>[]) {
        if (seen.has(component.name)) continue;
        seen.add(component.name);
        result.push({ component, plugin });
      }
    }
    return result;
  }

  /** One component by name, or a PluginError naming what is available. */
  get<K extends ComponentKind>(kind: K, name: string): ComponentOf<K> {
    const all = this.components(kind);
    const match = all.find(({ component }) => component.name === name);
    if (match) return match.component;
    const singular = kind.replace(/s$/, '');
    const available = all.map(({ component }) => component.name);
    throw new PluginError(
      `no ${singular} named "${name}"` +
        (available.length > 0 ? ` (available: ${available.join(', ')})` : ` (no plugin provides a ${singular})`),
      { hint: `install a plugin that provides it and list it in lsp.config.ts, or pass --plugin <name>` },
    );
  }
}

export interface LoadPluginsOptions {
  /** Plugin objects from lsp.config.ts, already flattened. */
  configPlugins?: readonly unknown[];
  /** Names or paths from --plugin. */
  commandLinePlugins?: readonly string[];
  /** Whether installed packages with the lsp-plugin keyword are loaded too. Default true. */
  discover?: boolean;
  /** Where packages are resolved from; default the working directory, then the runner's own folder. */
  fromDirectories?: readonly string[];
}

export function defaultResolutionDirectories(): string[] {
  return [process.cwd(), dirname(fileURLToPath(import.meta.url))];
}

/**
 * Imports one plugin by name or path. Its package's peer range on @lsp/core is checked before its code runs (an old
 * core may lack what it imports). Throws PluginError with one line on any failure.
 */
export async function importPlugin(name: string, fromDirectories: readonly string[]): Promise<PluginV1> {
  const modulePath = resolvePluginModule(name, fromDirectories);
  const found = findPluginManifest(modulePath);
  if (found) checkCorePeerRange(name, found.manifest);
  let moduleNamespace: unknown;
  try {
    moduleNamespace = await import(modulePath);
  } catch (error) {
    throw new PluginError(`plugin ${name} failed to load: ${errorText(error).split('\n')[0]}`, {
      hint: 'reinstall it (bun install), or build it if it is a workspace package (bun run build)',
    });
  }
  return pluginFromModule(moduleNamespace, name);
}

export async function loadPlugins(options: LoadPluginsOptions = {}): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  const fromDirectories = options.fromDirectories ?? defaultResolutionDirectories();
  (options.configPlugins ?? []).forEach((value, index) => {
    const label = typeof (value as { name?: unknown })?.name === 'string' ? (value as { name: string }).name : `plugins[${index}]`;
    registry.add(validatePlugin(value, `${label} (lsp.config.ts)`), 'config');
  });
  for (const name of options.commandLinePlugins ?? []) {
    registry.add(await importPlugin(name, fromDirectories), 'flag');
  }
  if (options.discover ?? true) {
    for (const name of discoverInstalledPlugins(fromDirectories)) {
      if (registry.plugins.some((loaded) => loaded.plugin.name === name)) continue;
      try {
        registry.add(await importPlugin(name, fromDirectories), 'installed');
      } catch (error) {
        // An installed plugin nobody asked for must not stop the run; it is reported by `lsp plugins`.
        registry.warnings.push({ plugin: name, message: PluginError.isInstance(error) ? error.toLine() : errorText(error) });
      }
    }
  }
  return registry;
}

/** First-party plugins are the project's own, published under the @lsp scope; everything else is third-party. */
export function isFirstParty(plugin: PluginV1): boolean {
  return plugin.name.startsWith('@lsp/');
}

/** Names of the components a plugin contributes, by kind, for listings. */
export function describeComponents(plugin: PluginV1): string {
  const parts: string[] = [];
  for (const kind of componentKinds) {
    const names = (plugin[kind] ?? []).map((component) => component.name);
    if (names.length > 0) parts.push(`${kind}: ${names.join(', ')}`);
  }
  return parts.length > 0 ? parts.join('; ') : 'no components';
}
