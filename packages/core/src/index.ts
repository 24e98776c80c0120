// @lsp/core: the v1 specification of LSP. Types, errors and schemas only; no compute.
export * from './errors';
export type * from './backend/v1/device';
export type * from './backend/v1/backend';
export { chooseAvailableBackend, explainAutoChoice } from './backend/v1/choose-backend';
export { bfloat16ToNumber, float16ToNumber, widenHalfPrecision } from './backend/v1/half-precision';
export type { ChooseBackendOptions } from './backend/v1/choose-backend';
export type * from './tokenizer/v1/tokenizer';
export type * from './model/v1/policy';
export type * from './judge/v1/judge';
export type * from './game/v1/game';
export type * from './benchmark/v1/benchmark';
export { passAtK } from './benchmark/pass-at-k';
export type * from './advantage/v1/advantage';
export type { PluginV1, PluginComponentsV1, ComponentKind, PluginFactory } from './plugin/v1/plugin';
export {
  definePlugin, componentKinds, supportedSpecificationVersions, coreVersion, specificationCoreRanges,
} from './plugin/v1/plugin';
export { componentShapes, pluginHeaderShape } from './plugin/v1/plugin-schema';
export { configSchema, defineConfig } from './config/config';
export { parseComponentOptions } from './config/component-options';
export type { LspConfig, LspConfigInput } from './config/config';
