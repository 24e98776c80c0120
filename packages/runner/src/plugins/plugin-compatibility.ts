// Whether a plugin fits the installed core: its package's peer range on @lsp/core, and the specification versions
// of the plugin and its components. A refusal is one line saying which versions meet and what to upgrade.
import { PluginError, coreVersion, supportedSpecificationVersions } from '@lsp/core';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isPathSpecifier } from './plugin-resolution';

const upgradeLsp = 'bun add @lsp/runner@latest @lsp/core@latest';

export interface PluginManifest {
  name?: string;
  version?: string;
  keywords?: string[];
  peerDependencies?: Record<string, string>;
}

/** The package.json of the package a module file belongs to (the nearest one above it that names a package). */
export function findPluginManifest(modulePath: string): { path: string; manifest: PluginManifest } | undefined {
  for (let directory = dirname(modulePath); ; directory = dirname(directory)) {
    const path = join(directory, 'package.json');
    if (existsSync(path)) {
      try {
        const manifest = JSON.parse(readFileSync(path, 'utf8')) as PluginManifest;
        if (typeof manifest.name === 'string') return { path, manifest };
      } catch {
        return undefined; // An unreadable manifest declares nothing to check.
      }
    }
    if (dirname(directory) === directory) return undefined;
  }
}

/** The lowest version a range names (`>=0.3.0 <1` -> 0.3.0), to tell "core too old" from "plugin too old". */
function lowestVersionNamed(range: string): string | undefined {
  const match = /(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?/.exec(range);
  if (!match) return undefined;
  const part = (value: string | undefined) => (value === undefined || /[xX*]/.test(value) ? '0' : value);
  return `${match[1]}.${part(match[2])}.${part(match[3])}`;
}

/**
 * Refuses a plugin package whose peer dependency on @lsp/core excludes this core. Ranges with a protocol
 * (workspace:, file:, link:) name no versions and are not checked; nor are plugins without the peer dependency.
 */
export function checkCorePeerRange(label: string, manifest: PluginManifest, installedCore = coreVersion): void {
  const range = manifest.peerDependencies?.['@lsp/core'];
  if (typeof range !== 'string' || /^[a-z]+:/i.test(range.trim())) return;
  if (Bun.semver.satisfies(installedCore, range)) return;
  const plugin = `${manifest.name ?? label}${manifest.version ? ` ${manifest.version}` : ''}`;
  const lowest = lowestVersionNamed(range);
  const coreTooOld = lowest !== undefined && Bun.semver.order(installedCore, lowest) < 0;
  throw new PluginError(
    `plugin ${plugin} needs @lsp/core ${range} (its peer dependency) and this LSP has @lsp/core ${installedCore}`,
    {
      hint: coreTooOld
        ? `upgrade LSP to a release in ${range} (${upgradeLsp}), or install a release of ${manifest.name ?? label} whose peer range includes ${installedCore}`
        : `upgrade the plugin to a release whose peer range includes ${installedCore} (bun add ${manifest.name ?? label}@latest), or use an LSP in ${range}`,
    },
  );
}

function specificationNumber(version: string): number | undefined {
  const match = /^v(\d+)$/.exec(version);
  return match ? Number(match[1]) : undefined;
}

/** Refuses a plugin, or one of its components, built for a specification version this core does not implement. */
export function checkSpecificationVersion(what: string, owner: string, version: unknown): void {
  if (typeof version !== 'string' || (supportedSpecificationVersions as readonly string[]).includes(version)) return;
  const supported = supportedSpecificationVersions.join(', ');
  const newest = Math.max(...supportedSpecificationVersions.map((known) => specificationNumber(known) ?? 0));
  const wanted = specificationNumber(version);
  const lspTooOld = wanted !== undefined && wanted > newest;
  throw new PluginError(
    `${what} was built for specification ${version}, but this LSP (@lsp/core ${coreVersion}) supports ${supported}`,
    {
      hint: lspTooOld
        ? `upgrade LSP to a release that implements ${version} (${upgradeLsp}), or install a release of ${owner} made for specification ${supported}`
        : `install a release of ${owner} made for specification ${supported}${isPathSpecifier(owner) ? '' : ` (bun add ${owner}@latest)`}`,
    },
  );
}
