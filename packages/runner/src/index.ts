// @lsp/runner: the `lsp` command and the pieces other tools reuse (plugin loading, config resolution).
export { main, createProgram } from './cli';
export { loadPlugins, importPlugin, PluginRegistry, describeComponents, isFirstParty } from './plugins/plugin-registry';
export type { LoadedPlugin, LoadPluginsOptions } from './plugins/plugin-registry';
export { validatePlugin, pluginFromModule } from './plugins/plugin-validation';
export { resolvePluginModule, candidatePackageNames, discoverInstalledPlugins } from './plugins/plugin-resolution';
export { checkCorePeerRange, checkSpecificationVersion } from './plugins/plugin-compatibility';
export { resolveConfig, validateConfig, flattenPlugins } from './config/load-config';
export { chooseBackend } from './backend-choice';
export { runDoctor, formatDoctor } from './doctor/doctor';
export { writePluginPackage } from './scaffold/new-plugin';
export { runExperiment } from './selfplay/experiment';
export type { ExperimentOptions, ExperimentResult } from './selfplay/experiment';
export { evaluateCheckpoint } from './selfplay/evaluation';
export { readMetrics, readSamples } from './run/run-metrics';
export type { IterationMetrics, IterationSample } from './run/run-metrics';
