// The plugin interface, v1: a factory result naming the components it contributes.
import type { BackendV1 } from '../../backend/v1/backend';
import type { BenchmarkFactoryV1 } from '../../benchmark/v1/benchmark';
import type { GameFactoryV1 } from '../../game/v1/game';
import type { JudgeFactoryV1 } from '../../judge/v1/judge';
import type { ModelLoaderV1 } from '../../model/v1/policy';
import type { TokenizerLoaderV1 } from '../../tokenizer/v1/tokenizer';

export interface PluginComponentsV1 {
  backends?: readonly BackendV1[];
  tokenizers?: readonly TokenizerLoaderV1[];
  models?: readonly ModelLoaderV1[];
  judges?: readonly JudgeFactoryV1[];
  games?: readonly GameFactoryV1[];
  benchmarks?: readonly BenchmarkFactoryV1[];
}

export interface PluginV1 extends PluginComponentsV1 {
  readonly specificationVersion: 'v1';
  /** The package name, e.g. '@lsp/backend-wasm' or 'lsp-plugin-my-game'. */
  readonly name: string;
  readonly version: string;
}

export type ComponentKind = keyof PluginComponentsV1;
export const componentKinds: readonly ComponentKind[] = [
  'backends', 'tokenizers', 'models', 'judges', 'games', 'benchmarks',
];

/** What a plugin package exports by default: a factory (preferred) or the plugin object itself. */
export type PluginFactory<Options = void> = (options?: Options) => PluginV1;

/** Identity helper that gives a plugin literal its type. */
export function definePlugin(plugin: PluginV1): PluginV1 {
  return plugin;
}

/** The specification versions this core understands. */
export const supportedSpecificationVersions = ['v1'] as const;

/** This package's version (a test keeps it equal to package.json's): what plugins' peer ranges are matched against. */
export const coreVersion = '0.1.0';

/**
 * The @lsp/core versions that implement each specification version. v1 begins at 0.1.0 and has no upper bound:
 * later cores keep loading v1 plugins (adapting them once a v2 exists) for as long as they list v1 in
 * `supportedSpecificationVersions`. A plugin built on v1 declares this range as its peer dependency on @lsp/core,
 * or a higher lower bound when it uses something added to v1 later (docs/plugins.md, "Specification versions").
 */
export const specificationCoreRanges = { v1: '>=0.1.0' } as const;
