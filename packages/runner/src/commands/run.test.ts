// The --lora-* flags of `lsp run` over lsp.config.ts's `lora`: flags win, each is checked as the config is, and a
// refusal names the flag.
import { ConfigError, configSchema } from '@lsp/core';
import { describe, expect, test } from 'bun:test';
import { loraWithFlags } from './run';

describe('loraWithFlags', () => {
  const plain = configSchema.parse({});
  const withLora = configSchema.parse({ lora: { rank: 8, alpha: 32, targets: ['q', 'v'] } });

  test('no flag leaves the config as it is', () => {
    expect(loraWithFlags(plain, {})).toBeUndefined();
    expect(loraWithFlags(withLora, {})).toEqual(withLora.lora);
  });

  test('flags make or override the lora settings', () => {
    expect(loraWithFlags(plain, { loraRank: 4, loraTargets: 'q, k,down' })).toEqual({ rank: 4, dropout: 0, rsLora: false, targets: ['q', 'k', 'down'] });
    expect(loraWithFlags(withLora, { loraRank: 16, loraDropout: 0.1 })).toEqual({ rank: 16, alpha: 32, dropout: 0.1, rsLora: false, targets: ['q', 'v'] });
  });

  test('bad values are refused in one line naming the flag', () => {
    expect(() => loraWithFlags(plain, { loraAlpha: 8 })).toThrow(ConfigError);
    expect(() => loraWithFlags(plain, { loraAlpha: 8 })).toThrow('need --lora-rank');
    expect(() => loraWithFlags(plain, { loraRank: 0 })).toThrow(/^--lora-rank: /);
    expect(() => loraWithFlags(plain, { loraRank: 4, loraDropout: 1 })).toThrow(/^--lora-dropout: /);
  });
});
