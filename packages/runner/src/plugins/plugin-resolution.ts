// Finds plugin packages: `--plugin <name>` resolves @lsp/<name>, lsp-plugin-<name>, the bare name, or a path;
// installed packages carrying the `lsp-plugin` keyword are discovered the way Vite and ESLint find theirs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { PluginError } from '@lsp/core';

export const pluginKeyword = 'lsp-plugin';

export function isPathSpecifier(name: string): boolean {
  return name.startsWith('.') || isAbsolute(name) || /\.(m?[jt]s)$/.test(name);
}

/** The package names tried for a command-line plugin name, in order. */
export function candidatePackageNames(name: string): string[] {
  if (name.startsWith('@') || name.startsWith('lsp-plugin-')) return [name];
  return [`@lsp/${name}`, `lsp-plugin-${name}`, name];
}

/** Resolves a plugin name or path to a module file, looking from `fromDirectories` in order. */
export function resolvePluginModule(name: string, fromDirectories: readonly string[]): string {
  if (isPathSpecifier(name)) {
    const path = resolve(fromDirectories[0] ?? process.cwd(), name);
    if (!existsSync(path)) {
      throw new PluginError(`plugin ${name} not found: no file or folder at ${path}`, {
        hint: 'check the path',
      });
    }
    try {
      return Bun.resolveSync(path, dirname(path));
    } catch {
      throw new PluginError(`plugin ${name}: ${path} has no module entry point`, {
        hint: 'point at the plugin file or at a package folder with "main" or "exports"',
      });
    }
  }
  const candidates = candidatePackageNames(name);
  for (const candidate of candidates) {
    for (const directory of fromDirectories) {
      try {
        return Bun.resolveSync(candidate, directory);
      } catch {
        // Not installed where we looked; try the next place.
      }
    }
  }
  for (const candidate of candidates) {
    const folder = installedPackageFolder(candidate, fromDirectories);
    if (folder) {
      throw new PluginError(`plugin ${name}: ${folder} is installed but its entry point does not resolve (a file its "exports" or "main" names is missing)`, {
        hint: 'reinstall it (bun install), or build it if it is a workspace package (bun run build)',
      });
    }
  }
  const suggested = candidates.length > 1 ? candidates[1] : candidates[0];
  throw new PluginError(`plugin ${name} not found (looked for ${candidates.join(', ')})`, {
    hint: `install it with \`bun add ${suggested}\`, or pass a path to the plugin's file`,
  });
}

/** The folder of an installed package, found in the node_modules of the given folders or above them. */
function installedPackageFolder(name: string, fromDirectories: readonly string[]): string | undefined {
  for (const start of fromDirectories) {
    for (let directory = resolve(start); ; directory = dirname(directory)) {
      const folder = join(directory, 'node_modules', name);
      if (existsSync(join(folder, 'package.json'))) return folder;
      if (dirname(directory) === directory) break;
    }
  }
  return undefined;
}

interface PackageManifest {
  name?: string;
  version?: string;
  keywords?: string[];
}

/** Package names of every installed plugin (keyword `lsp-plugin`) under the node_modules of the given folders. */
export function discoverInstalledPlugins(fromDirectories: readonly string[]): string[] {
  const found = new Set<string>();
  for (const start of fromDirectories) {
    for (let directory = resolve(start); ; directory = dirname(directory)) {
      const modules = join(directory, 'node_modules');
      if (existsSync(modules)) scanNodeModules(modules, found);
      if (dirname(directory) === directory) break;
    }
  }
  return [...found].sort();
}

function scanNodeModules(modules: string, found: Set<string>): void {
  for (const entry of safeReaddir(modules)) {
    if (entry.startsWith('@')) {
      for (const scoped of safeReaddir(join(modules, entry))) considerPackage(join(modules, entry, scoped), found);
    } else {
      considerPackage(join(modules, entry), found);
    }
  }
}

function considerPackage(folder: string, found: Set<string>): void {
  const manifestPath = join(folder, 'package.json');
  if (!existsSync(manifestPath)) return;
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as PackageManifest;
    if (manifest.name && manifest.keywords?.includes(pluginKeyword)) found.add(manifest.name);
  } catch {
    // A broken package.json elsewhere in node_modules is not ours to report.
  }
}

function safeReaddir(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    return [];
  }
}
