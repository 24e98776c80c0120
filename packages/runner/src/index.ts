// @lsp/runner: the `lsp` command and the pieces other tools reuse (plugin loading, config resolution).
export { main, createProgram } from './cli';
export { loadPlugins, importPlugin, PluginRegistry, describeComponents } from './plugins/plugin-registry';
export type { LoadedPlugin, LoadPluginsOptions } from './plugins/plugin-registry';
export { validatePlugin, pluginFromModule } from './plugins/plugin-validation';
export { resolvePluginModule, candidatePackageNames, discoverInstalledPlugins } from './plugins/plugin-resolution';
export { resolveConfig, validateConfig, flattenPlugins } from './config/load-config';
export { chooseBackend } from './backend-choice';
export { runDoctor, formatDoctor } from './doctor/doctor';
export { writePluginPackage } from './scaffold/new-plugin';
