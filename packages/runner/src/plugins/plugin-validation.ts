// Checks that a module's export is a v1 plugin whose components have the right shape, before anything is called.
import { PluginError, componentKinds, componentShapes, pluginHeaderShape, type PluginV1 } from '@lsp/core';
import { checkSpecificationVersion } from './plugin-compatibility';

/** The runner's own version, the one plugins are built against. */
export const runnerVersion = '0.1.0';

/** Turns a module namespace into a plugin: the default export may be a factory or the plugin object itself. */
export function pluginFromModule(moduleNamespace: unknown, label: string): PluginV1 {
  const exported = (moduleNamespace as { default?: unknown })?.default ?? moduleNamespace;
  let value: unknown = exported;
  if (typeof exported === 'function') {
    try {
      value = (exported as () => unknown)();
    } catch (error) {
      throw new PluginError(`plugin ${label}: its factory threw "${errorText(error)}"`, {
        hint: 'fix the plugin or report it to its author',
      });
    }
  }
  return validatePlugin(value, label);
}

/** Validates a plugin object; `label` names it in errors (package name or path). */
export function validatePlugin(value: unknown, label: string): PluginV1 {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PluginError(`plugin ${label} does not export a plugin`, {
      hint: 'its default export must be a factory returning { name, version, specificationVersion: "v1", ... }',
    });
  }
  const record = value as Record<string, unknown>;
  checkSpecificationVersion(`plugin ${label}`, typeof record.name === 'string' ? record.name : label, record.specificationVersion);
  const header = pluginHeaderShape.safeParse(value);
  if (!header.success) {
    const issue = header.error.issues[0]!;
    throw new PluginError(`plugin ${label}: field "${issue.path.join('.')}" ${issue.message.toLowerCase()}`, {
      hint: 'a plugin needs a name, a version and specificationVersion "v1"',
    });
  }
  for (const kind of componentKinds) {
    const components = record[kind];
    if (components === undefined) continue;
    if (!Array.isArray(components)) {
      throw new PluginError(`plugin ${label}: "${kind}" must be an array of components`, {
        hint: `write ${kind}: [component]`,
      });
    }
    components.forEach((component, index) => {
      const componentName = typeof (component as { name?: unknown })?.name === 'string' ? ` ("${(component as { name: string }).name}")` : '';
      checkSpecificationVersion(
        `plugin ${label}: ${kind}[${index}]${componentName}`, typeof record.name === 'string' ? record.name : label,
        (component as { specificationVersion?: unknown })?.specificationVersion,
      );
      const result = componentShapes[kind].safeParse(component);
      if (!result.success) {
        const issue = result.error.issues[0]!;
        const field = issue.path.length > 0 ? `field "${issue.path.join('.')}"` : 'the component';
        throw new PluginError(
          `plugin ${label}: ${kind}[${index}]${componentName} fails its shape check: ${field} ${issue.message.toLowerCase()}`,
          { hint: 'fix the plugin or report it to its author' },
        );
      }
    });
  }
  return value as PluginV1;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
