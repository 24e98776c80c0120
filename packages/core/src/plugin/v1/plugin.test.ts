// The version facts plugins are checked against: the core's version as published, and the v1 range it belongs to.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreVersion, specificationCoreRanges, supportedSpecificationVersions } from './plugin';

describe('core version facts', () => {
  test('coreVersion is the version in package.json', () => {
    const manifest = JSON.parse(readFileSync(join(import.meta.dir, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(coreVersion).toBe(manifest.version);
  });

  test('every supported specification version has a core range, and this core is inside it', () => {
    for (const version of supportedSpecificationVersions) {
      const range = specificationCoreRanges[version];
      expect(range).toBeString();
      expect(Bun.semver.satisfies(coreVersion, range)).toBe(true);
    }
  });
});
