// Reads IFEval's published input_data.jsonl: one JSON object per line with `key`, `prompt`, `instruction_id_list`
// and `kwargs`, the last a list with one object per instruction. Both published layouts are read: the original
// (each object holds only its instruction's arguments) and the Hugging Face copy (every object holds every
// argument name, null where unused). Null arguments are ignored; a required one missing, one of the wrong type, an
// argument the instruction does not take, or an unknown instruction id is refused with one InvalidInputError line
// naming the file, the line and the field.
import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '@lsp/core';
import { describe, instructionRegistry, parseArgument, type InstructionArguments } from './instructions';

export interface IfevalInstruction {
  /** The instruction id, e.g. "detectable_format:title". */
  id: string;
  /** Its arguments, validated and normalised (null ones dropped). */
  kwargs: InstructionArguments;
}

export interface IfevalPrompt {
  /** The record's `key` (an integer in the published file). */
  key: number | string;
  prompt: string;
  instructions: IfevalInstruction[];
  /** 1-based line in the file it was read from (0 when it did not come from a file). */
  line: number;
}

/** Where a record came from, for error messages: `file:line`. */
function at(source: string, line: number): string {
  return line > 0 ? `${source}:${line}` : source;
}

/** Validates one decoded record; every refusal names `source`, the line and the field. */
export function parseIfevalRecord(record: unknown, source: string, line: number): IfevalPrompt {
  const where = at(source, line);
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new InvalidInputError(`${where}: expected a JSON object with key, prompt, instruction_id_list and kwargs, found ${describe(record)}`);
  }
  const value = record as Record<string, unknown>;
  const missing = (field: string) => new InvalidInputError(`${where}: field "${field}" is missing`);

  const key = value.key;
  if (key === undefined || key === null) throw missing('key');
  if (!((typeof key === 'number' && Number.isInteger(key)) || (typeof key === 'string' && key !== ''))) {
    throw new InvalidInputError(`${where}: field "key" must be an integer, found ${describe(key)}`);
  }

  const prompt = value.prompt;
  if (prompt === undefined || prompt === null) throw missing('prompt');
  if (typeof prompt !== 'string') throw new InvalidInputError(`${where}: field "prompt" must be a string, found ${describe(prompt)}`);

  const ids = value.instruction_id_list;
  if (ids === undefined || ids === null) throw missing('instruction_id_list');
  if (!Array.isArray(ids)) {
    throw new InvalidInputError(`${where}: field "instruction_id_list" must be a list of instruction ids, found ${describe(ids)}`);
  }
  const kwargs = value.kwargs;
  if (kwargs === undefined || kwargs === null) throw missing('kwargs');
  if (!Array.isArray(kwargs)) throw new InvalidInputError(`${where}: field "kwargs" must be a list of objects, found ${describe(kwargs)}`);
  if (kwargs.length !== ids.length) {
    throw new InvalidInputError(
      `${where}: field "kwargs" has ${kwargs.length} entries but "instruction_id_list" has ${ids.length}; there must be one per instruction`,
    );
  }

  const instructions = ids.map((id, index): IfevalInstruction => {
    const field = `instruction_id_list[${index}]`;
    if (typeof id !== 'string') throw new InvalidInputError(`${where}: field "${field}" must be a string, found ${describe(id)}`);
    const definition = instructionRegistry.get(id);
    if (!definition) {
      throw new InvalidInputError(`${where}: field "${field}": unknown instruction id ${JSON.stringify(id)}`, {
        hint: 'IFEval ids look like "keywords:existence" or "detectable_format:title" (see the package README for the list)',
      });
    }
    const given = kwargs[index];
    const argumentsField = `kwargs[${index}]`;
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      throw new InvalidInputError(`${where}: field "${argumentsField}" must be an object, found ${describe(given)}`);
    }
    const args: Record<string, unknown> = {};
    for (const [name, argument] of Object.entries(given as Record<string, unknown>)) {
      if (argument === null) continue;
      const kind = definition.arguments[name];
      if (kind === undefined) {
        throw new InvalidInputError(`${where}: field "${argumentsField}.${name}": ${id} takes no argument "${name}"`, {
          hint: Object.keys(definition.arguments).length > 0
            ? `its arguments are ${Object.keys(definition.arguments).join(', ')}`
            : 'it takes no arguments (give {} or nulls)',
        });
      }
      const parsed = parseArgument(kind, argument);
      if ('problem' in parsed) throw new InvalidInputError(`${where}: field "${argumentsField}.${name}" ${parsed.problem}`);
      args[name] = parsed.value;
    }
    for (const name of Object.keys(definition.arguments)) {
      if (!(name in args)) throw new InvalidInputError(`${where}: field "${argumentsField}.${name}" is missing (${id} needs it)`);
    }
    const problem = definition.validate?.(args as InstructionArguments);
    if (problem) throw new InvalidInputError(`${where}: field "${argumentsField}.${problem.argument}" ${problem.problem}`);
    return { id, kwargs: args as InstructionArguments };
  });

  return { key: key as number | string, prompt, instructions, line };
}

/** Parses the text of an input_data.jsonl file (blank lines skipped); `limit` stops after that many records. */
export function parseIfevalJsonl(text: string, source: string, limit?: number): IfevalPrompt[] {
  const prompts: IfevalPrompt[] = [];
  const keys = new Map<string, number>();
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    if (limit !== undefined && prompts.length >= limit) break;
    const raw = lines[index]!.trim();
    if (raw === '') continue;
    const line = index + 1;
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (error) {
      throw new InvalidInputError(`${source}:${line}: not valid JSON (${(error as Error).message})`, {
        hint: 'IFEval input_data.jsonl holds one JSON object per line',
      });
    }
    const prompt = parseIfevalRecord(record, source, line);
    const seen = keys.get(String(prompt.key));
    if (seen !== undefined) {
      throw new InvalidInputError(`${source}:${line}: field "key": ${String(prompt.key)} was already used on line ${seen}`);
    }
    keys.set(String(prompt.key), line);
    prompts.push(prompt);
  }
  return prompts;
}

/** Reads and validates an input_data.jsonl file. */
export async function readIfevalFile(path: string, limit?: number): Promise<IfevalPrompt[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new InvalidInputError(`benchmark ifeval: cannot read ${path} (${reason})`, {
      hint: 'give the path of IFEval\'s input_data.jsonl as the data option',
    });
  }
  return parseIfevalJsonl(text, path, limit);
}
