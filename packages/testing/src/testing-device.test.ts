// checkDevice passes a device that computes what the oracle does and names the kernel of one that does not.
import type { DeviceV1, Tensor } from '@lsp/core';
import { createOracleDevice } from '@lsp/oracle';
import { describe, expect, test } from 'bun:test';
import { checkDevice } from './testing-device';

/** The oracle with `scale` multiplying by one factor too many. */
function deviceWithWrongScale(): DeviceV1 {
  const oracle = createOracleDevice();
  return new Proxy(oracle, {
    get(target, property, receiver) {
      if (property === 'scale') return (x: Tensor, factor: number, out: Tensor) => target.scale(x, factor * 1.01, out);
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('checkDevice', () => {
  test('the oracle itself passes every case', async () => {
    const check = await checkDevice(createOracleDevice());
    expect(check.summary).toBe('');
    expect(check.passed).toBe(true);
    expect(check.comparisons.length).toBeGreaterThan(10);
  });

  test('a wrong kernel fails, and the summary names its case', async () => {
    const check = await checkDevice(deviceWithWrongScale());
    expect(check.passed).toBe(false);
    expect(check.summary).toContain('scale and fill: ');
    expect(check.comparisons.filter((comparison) => !comparison.passed).map((comparison) => comparison.name)).toEqual(['scale and fill']);
  });
});
