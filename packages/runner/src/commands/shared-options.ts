// Options and helpers shared by several commands.
import { InvalidArgumentError, type Command } from 'commander';
import { resolveConfig, type ResolvedConfig } from '../config/load-config';
import { loadPlugins, type PluginRegistry } from '../plugins/plugin-registry';

export interface GlobalOptions {
  plugin?: string[];
  config?: string;
}

export function parseInteger(name: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number, got "${value}"`);
    return Number(value);
  };
}

export function parseNumber(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed)) throw new InvalidArgumentError(`${name} must be a number, got "${value}"`);
    return parsed;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

/** Resolves the config and loads every plugin of the run: what most commands start with. */
export async function prepareRun(
  command: Command,
  overrides: Record<string, unknown> = {},
): Promise<{ resolved: ResolvedConfig; registry: PluginRegistry }> {
  const options = globalOptions(command);
  const resolved = await resolveConfig({ configPath: options.config, overrides });
  const registry = await loadPlugins({ configPlugins: resolved.plugins, commandLinePlugins: options.plugin ?? [] });
  return { resolved, registry };
}
