// Reads lsp.config.ts (or the file given by --config), applies command-line overrides, validates with zod.
import { ConfigError, configSchema, type LspConfig } from '@lsp/core';
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { z } from 'zod';
import { withBuiltinPreset } from './world-preset';

export const defaultConfigFileNames = ['lsp.config.ts', 'lsp.config.js', 'lsp.config.mjs'];

export interface ResolvedConfig {
  config: LspConfig;
  /** The config file used, if any. */
  path: string | undefined;
  /** Plugin objects from the config file, presets flattened and falsy entries removed. */
  plugins: unknown[];
}

/** Finds the config file: an explicit path must exist; otherwise lsp.config.* in the working directory, if any. */
export function findConfigFile(explicitPath: string | undefined, cwd = process.cwd()): string | undefined {
  if (explicitPath) {
    const path = resolve(cwd, explicitPath);
    if (!existsSync(path)) {
      throw new ConfigError(`config file ${explicitPath} not found`, { hint: 'check the --config path' });
    }
    return path;
  }
  for (const name of defaultConfigFileNames) {
    const path = resolve(cwd, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

export async function loadConfigFile(path: string): Promise<unknown> {
  let moduleNamespace: { default?: unknown };
  try {
    moduleNamespace = (await import(path)) as { default?: unknown };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(`${basename(path)} failed to load: ${message}`, { hint: 'fix the error in the config file' });
  }
  if (moduleNamespace.default === undefined) {
    throw new ConfigError(`${basename(path)} has no default export`, {
      hint: 'write `export default defineConfig({ ... })`',
    });
  }
  return moduleNamespace.default;
}

/** Flattens presets (arrays) and drops falsy entries, as Vite does. */
export function flattenPlugins(entries: readonly unknown[]): unknown[] {
  const result: unknown[] = [];
  for (const entry of entries) {
    if (!entry) continue;
    if (Array.isArray(entry)) result.push(...flattenPlugins(entry));
    else result.push(entry);
  }
  return result;
}

/** One line describing every schema problem, each with its field path. */
export function formatConfigIssues(source: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join('.') : '(root)';
      if (issue.code === 'unrecognized_keys') {
        return `${source}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys
          .map((key) => `"${[...issue.path, key].join('.')}"`)
          .join(', ')}`;
      }
      return `${source}: ${field}: ${issue.message}`;
    })
    .join('; ');
}

/** Validates a raw config object merged with overrides (overrides win). */
export function validateConfig(raw: unknown, overrides: Record<string, unknown>, source: string): ResolvedConfig['config'] {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    throw new ConfigError(`${source}: the default export must be an object`, { hint: 'use defineConfig({ ... })' });
  }
  const merged = withBuiltinPreset({ ...(raw as Record<string, unknown> | undefined), ...definedEntries(overrides) });
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(formatConfigIssues(source, result.error), { hint: 'see the config example in README.md' });
  }
  return result.data;
}

function definedEntries(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

export async function resolveConfig(options: {
  configPath?: string;
  overrides?: Record<string, unknown>;
  cwd?: string;
}): Promise<ResolvedConfig> {
  const path = findConfigFile(options.configPath, options.cwd);
  const raw = path ? await loadConfigFile(path) : undefined;
  const source = path ? basename(path) : 'command line';
  const config = validateConfig(raw, options.overrides ?? {}, source);
  return { config, path, plugins: flattenPlugins(config.plugins) };
}
