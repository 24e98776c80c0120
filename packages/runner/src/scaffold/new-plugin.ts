// Writes a new plugin package to disk (`lsp new plugin <name>`).
import { ConfigError } from '@lsp/core';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginPackageName, pluginTemplateFiles } from './plugin-template';

export const pluginNamePattern = /^[a-z0-9][a-z0-9-]*[a-z0-9]$|^[a-z0-9]$/;

/** How a new plugin depends on @lsp/core: file:<path> inside a checkout, else the installed version's range. */
export function coreDependencySpecifier(): string {
  const manifestPath = Bun.resolveSync('@lsp/core/package.json', dirname(fileURLToPath(import.meta.url)));
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string };
  return manifestPath.includes('/node_modules/') ? `^${manifest.version}` : `file:${dirname(manifestPath)}`;
}

export function writePluginPackage(name: string, directory?: string, cwd = process.cwd()): string {
  if (!pluginNamePattern.test(name)) {
    throw new ConfigError(`plugin name "${name}" is not valid`, {
      hint: 'use lower-case letters, digits and dashes, e.g. `lsp new plugin word-count`',
    });
  }
  const target = resolve(cwd, directory ?? pluginPackageName(name));
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new ConfigError(`${target} already exists and is not empty`, { hint: 'choose another name or --dir' });
  }
  const files = pluginTemplateFiles({ name, coreDependency: coreDependencySpecifier() });
  for (const [relativePath, contents] of Object.entries(files)) {
    const path = join(target, relativePath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents);
  }
  return target;
}
