// Reads a benchmark's JSONL file: one JSON object per line, blank lines skipped. Every refusal is one
// InvalidInputError line naming the file, the line number and, where there is one, the field.
import { readFile } from 'node:fs/promises';
import { ConfigError, InvalidInputError } from '@lsp/core';

export interface JsonlRecord {
  /** 1-based line number in the file. */
  line: number;
  value: Record<string, unknown>;
}

/** Reads `path` and parses its lines; stops after `limit` records when given. */
export async function readJsonl(benchmark: string, path: string, limit?: number): Promise<JsonlRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new InvalidInputError(`benchmark ${benchmark}: cannot read ${path} (${reason})`, {
      hint: 'check the path given as the data option',
    });
  }
  const records: JsonlRecord[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    if (limit !== undefined && records.length >= limit) break;
    const raw = lines[index]!.trim();
    if (raw === '') continue;
    const line = index + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new InvalidInputError(`${path}:${line}: not valid JSON (${(error as Error).message})`, {
        hint: `benchmark ${benchmark} reads one JSON object per line`,
      });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidInputError(`${path}:${line}: expected a JSON object, found ${Array.isArray(value) ? 'an array' : typeof value}`, {
        hint: `benchmark ${benchmark} reads one JSON object per line`,
      });
    }
    records.push({ line, value: value as Record<string, unknown> });
  }
  return records;
}

/** The field as a non-empty string, or one line naming the file, line and field. */
export function stringField(path: string, record: JsonlRecord, field: string): string {
  const value = record.value[field];
  if (value === undefined || value === null) {
    throw new InvalidInputError(`${path}:${record.line}: field "${field}" is missing`);
  }
  if (typeof value !== 'string') {
    throw new InvalidInputError(`${path}:${record.line}: field "${field}" must be a string, found ${describe(value)}`);
  }
  if (value.trim() === '') throw new InvalidInputError(`${path}:${record.line}: field "${field}" is empty`);
  return value;
}

/** An optional field that must be a string or number when present (MATH's `level` is "Level 3" or 3). */
export function optionalLabel(path: string, record: JsonlRecord, field: string): string | undefined {
  const value = record.value[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new InvalidInputError(`${path}:${record.line}: field "${field}" must be a string or a number, found ${describe(value)}`);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export interface FileOptions {
  data: string;
  limit?: number;
}

/** Checks the options every file benchmark takes: `data` (a path) and an optional positive integer `limit`. */
export function checkFileOptions(benchmark: string, options: Record<string, unknown>): FileOptions {
  const { data, limit } = options;
  if (typeof data !== 'string' || data === '') {
    throw new ConfigError(`benchmark ${benchmark}: option data (the path of the JSONL file) is required`, {
      hint: `pass benchmarkOptions: { data: 'path/to/${benchmark}.jsonl' }`,
    });
  }
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    throw new ConfigError(`benchmark ${benchmark}: option limit must be a positive integer, got ${JSON.stringify(limit)}`);
  }
  return limit === undefined ? { data } : { data, limit };
}
