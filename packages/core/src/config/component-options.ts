// Options of a plugin's component (gameOptions, judgeOptions, benchmarkOptions), checked with the component's zod
// schema: a refusal is one ConfigError line naming the component and the option.
import type { z } from 'zod';
import { ConfigError } from '../errors';

/**
 * Parses `options` with `schema`, or throws one line such as `judge openai: option "model" is required` or
 * `game lsp: unknown option "taskTypes"`, with `hint` saying where the options come from.
 */
export function parseComponentOptions<Schema extends z.ZodType>(
  component: string, schema: Schema, options: unknown, hint: string,
): z.output<Schema> {
  const result = schema.safeParse(options ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.join('.');
  const where = issue.code === 'unrecognized_keys'
    ? `unknown option "${issue.keys.join('", "')}"`
    : issue.code === 'invalid_type' && issue.input === undefined ? `option "${path}" is required` : `option "${path}": ${issue.message}`;
  throw new ConfigError(`${component}: ${where}`, { hint });
}
