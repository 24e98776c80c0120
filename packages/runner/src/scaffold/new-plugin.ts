// Writes a new plugin package to disk (`lsp new plugin|game|judge|benchmark|backend <name>`).
import { ConfigError, coreVersion } from '@lsp/core';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lspPackagesOf, pluginPackageName, pluginTemplateFiles, type PluginKind } from './plugin-template';

/** Lower-case words joined by single dashes, starting with a letter: it becomes a package name and identifiers. */
export const pluginNamePattern = /^[a-z](?:-?[a-z0-9])*$/;

/** The workspace folders of the LSP checkout this runner runs from, by package name; undefined when installed. */
function checkoutPackageFolders(): Map<string, string> | undefined {
  const coreManifest = Bun.resolveSync('@lsp/core/package.json', dirname(fileURLToPath(import.meta.url)));
  // Inside a checkout the workspace link resolves to packages/core itself; an installed core sits in node_modules.
  if (coreManifest.includes('/node_modules/')) return undefined;
  const root = dirname(dirname(dirname(coreManifest)));
  const folders = new Map<string, string>();
  for (const group of ['packages', 'plugins']) {
    for (const entry of existsSync(join(root, group)) ? readdirSync(join(root, group)) : []) {
      const manifest = join(root, group, entry, 'package.json');
      if (!existsSync(manifest)) continue;
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
      if (name) folders.set(name, join(root, group, entry));
    }
  }
  return folders;
}

/**
 * How a new plugin depends on each @lsp package it names. From an installed LSP: the installed release's caret
 * range (the packages are released together). Inside a checkout: `link:<folder>`, a symlink to the workspace
 * package, which keeps resolving its own dependencies in the checkout (a `file:` copy could not: they are
 * `workspace:` ranges).
 */
export function lspDependencySpecifiers(packageNames: readonly string[]): Record<string, string> {
  const folders = checkoutPackageFolders();
  return Object.fromEntries(packageNames.map((name) => {
    const folder = folders?.get(name);
    return [name, folders ? (folder ? `link:${folder}` : missingFromCheckout(name)) : `^${coreVersion}`];
  }));
}

function missingFromCheckout(name: string): never {
  throw new ConfigError(`this LSP checkout has no workspace package ${name}`, { hint: 'update the checkout (git pull) and run bun install' });
}

export interface WritePluginOptions {
  kind?: PluginKind;
  /** Default ./lsp-plugin-<name>. */
  directory?: string;
  cwd?: string;
}

export function writePluginPackage(name: string, options: WritePluginOptions = {}): string {
  const kind = options.kind ?? 'plugin';
  if (!pluginNamePattern.test(name)) {
    throw new ConfigError(`plugin name "${name}" is not valid`, {
      hint: `use lower-case letters, digits and single dashes, starting with a letter, e.g. \`lsp new ${kind} word-count\``,
    });
  }
  const target = resolve(options.cwd ?? process.cwd(), options.directory ?? pluginPackageName(name));
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new ConfigError(`${target} already exists and is not empty`, { hint: 'choose another name or --dir' });
  }
  const files = pluginTemplateFiles({ kind, name, lspSpecifiers: lspDependencySpecifiers(lspPackagesOf(kind)) });
  for (const [relativePath, contents] of Object.entries(files)) {
    const path = join(target, relativePath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents);
  }
  return target;
}
