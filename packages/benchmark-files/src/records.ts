// Reads a benchmark's data file: JSONL (GSM8K, MATH, HumanEval, MBPP, IFEval) or a JSON array of objects
// (AlpacaEval's alpaca_eval.json); a file whose first character is `[` is an array, anything else is JSONL.
// Every refusal is one InvalidInputError line naming the file, the line (and, in an array, the element) and the
// field.
import { readFile } from 'node:fs/promises';
import { ConfigError, InvalidInputError } from '@lsp/core';

export interface DataRecord {
  /** 0-based position of the record in the file (the array index, or the count of non-blank lines before it). */
  index: number;
  /** 1-based line on which the record starts. */
  line: number;
  /** How error lines name the record: `FILE:LINE` in JSONL, `FILE:LINE (element N)` in a JSON array. */
  where: string;
  value: Record<string, unknown>;
}

/** Reads `path` as a JSON array of objects or as JSONL; stops after `limit` records when given. */
export async function readRecords(benchmark: string, path: string, limit?: number): Promise<DataRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new InvalidInputError(`benchmark ${benchmark}: cannot read ${path} (${reason})`, {
      hint: 'check the path given as the data (or reference) option',
    });
  }
  return parseRecords(benchmark, path, text, limit);
}

/** readRecords on text already read: `path` only names the file in refusals. */
export function parseRecords(benchmark: string, path: string, text: string, limit?: number): DataRecord[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = skipSpace(text, 0);
  return text[first] === '['
    ? readJsonArray(benchmark, path, text, first, limit)
    : readJsonLines(benchmark, path, text, limit);
}

function readJsonLines(benchmark: string, path: string, text: string, limit: number | undefined): DataRecord[] {
  const records: DataRecord[] = [];
  const lines = text.split('\n');
  for (let at = 0; at < lines.length; at++) {
    if (limit !== undefined && records.length >= limit) break;
    const raw = lines[at]!.trim();
    if (raw === '') continue;
    const where = `${path}:${at + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new InvalidInputError(`${where}: not valid JSON (${(error as Error).message})`, {
        hint: `benchmark ${benchmark} reads a JSON array of objects or one JSON object per line`,
      });
    }
    records.push({ index: records.length, line: at + 1, where, value: objectOf(benchmark, where, value) });
  }
  return records;
}

/**
 * A JSON array read element by element: the scan finds where each top-level element starts and ends (strings and
 * nesting followed), and JSON.parse reads each element, so an error names the element's line and index.
 */
function readJsonArray(benchmark: string, path: string, text: string, open: number, limit: number | undefined): DataRecord[] {
  const lines = new LineIndex(text);
  const hint = `benchmark ${benchmark} reads a JSON array of objects or one JSON object per line`;
  const records: DataRecord[] = [];
  let position = skipSpace(text, open + 1);
  if (text[position] === ']') return checkEnd(path, text, position + 1, lines, hint, records);
  for (;;) {
    if (limit !== undefined && records.length >= limit) return records;
    const start = skipSpace(text, position);
    const index = records.length;
    const where = `${path}:${lines.lineOf(Math.min(start, text.length))} (element ${index})`;
    if (start >= text.length) throw new InvalidInputError(`${where}: not valid JSON (the array is not closed)`, { hint });
    const end = scanValue(text, start);
    const source = text.slice(start, end).trim();
    if (source === '') throw new InvalidInputError(`${where}: not valid JSON (a comma with no element after it)`, { hint });
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (error) {
      throw new InvalidInputError(`${where}: not valid JSON (${(error as Error).message})`, { hint });
    }
    records.push({ index, line: lines.lineOf(start), where, value: objectOf(benchmark, where, value) });
    if (end >= text.length) throw new InvalidInputError(`${where}: not valid JSON (the array is not closed)`, { hint });
    if (text[end] === ']') return checkEnd(path, text, end + 1, lines, hint, records);
    if (text[end] !== ',') {
      throw new InvalidInputError(`${path}:${lines.lineOf(end)} (element ${index}): not valid JSON (expected "," or "]" after the element, found "${text[end]}")`, { hint });
    }
    position = end + 1;
  }
}

function checkEnd(path: string, text: string, after: number, lines: LineIndex, hint: string, records: DataRecord[]): DataRecord[] {
  const rest = skipSpace(text, after);
  if (rest < text.length) throw new InvalidInputError(`${path}:${lines.lineOf(rest)}: not valid JSON (text after the array's closing "]")`, { hint });
  return records;
}

/** The end of the JSON value starting at `start`: the first `,` or `]` (or unmatched `}`) outside strings and nesting. */
function scanValue(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let at = start; at < text.length; at++) {
    const char = text[at];
    if (inString) {
      if (char === '\\') at++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') {
      if (depth === 0) return at;
      depth--;
    } else if (char === ',' && depth === 0) return at;
  }
  return text.length;
}

function skipSpace(text: string, from: number): number {
  let at = from;
  while (at < text.length && (text[at] === ' ' || text[at] === '\n' || text[at] === '\r' || text[at] === '\t')) at++;
  return at;
}

/** 1-based line numbers of offsets, by binary search over the line starts. */
class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) this.starts.push(at + 1);
  }
  lineOf(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  }
}

function objectOf(benchmark: string, where: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${where}: expected a JSON object, found ${describe(value)}`, {
      hint: `benchmark ${benchmark} reads one JSON object per item`,
    });
  }
  return value as Record<string, unknown>;
}

/** The field as a string (non-empty unless `allowEmpty`), or one line naming the file, line and field. */
export function stringField(record: DataRecord, field: string, allowEmpty = false): string {
  const value = record.value[field];
  if (value === undefined || value === null) throw new InvalidInputError(`${record.where}: field "${field}" is missing`);
  if (typeof value !== 'string') throw new InvalidInputError(`${record.where}: field "${field}" must be a string, found ${describe(value)}`);
  if (!allowEmpty && value.trim() === '') throw new InvalidInputError(`${record.where}: field "${field}" is empty`);
  return value;
}

/** An optional field that must be a string when present. */
export function optionalStringField(record: DataRecord, field: string): string | undefined {
  const value = record.value[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidInputError(`${record.where}: field "${field}" must be a string, found ${describe(value)}`);
  return value;
}

/** A non-empty array of strings (MBPP's test_list). */
export function stringArrayField(record: DataRecord, field: string): string[] {
  const value = record.value[field];
  if (value === undefined || value === null) throw new InvalidInputError(`${record.where}: field "${field}" is missing`);
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) {
    throw new InvalidInputError(`${record.where}: field "${field}" must be an array of strings, found ${describe(value)}`);
  }
  if (value.length === 0) throw new InvalidInputError(`${record.where}: field "${field}" is empty`);
  return value as string[];
}

/** An id: a non-empty string or an integer (MBPP numbers its tasks). */
export function idField(record: DataRecord, field: string): string {
  const value = record.value[field];
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return stringField(record, field);
}

/** An optional field that must be a string or a number when present (MATH's `level` is "Level 3" or 3). */
export function optionalLabel(record: DataRecord, field: string): string | undefined {
  const value = record.value[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new InvalidInputError(`${record.where}: field "${field}" must be a string or a number, found ${describe(value)}`);
}

export interface FileOptions {
  data: string;
  limit?: number;
}

/** Checks the options every file benchmark takes: `data` (a path) and an optional positive integer `limit`. */
export function checkFileOptions(benchmark: string, options: Record<string, unknown>): FileOptions {
  const { data, limit } = options;
  if (typeof data !== 'string' || data === '') {
    throw new ConfigError(`benchmark ${benchmark}: option data (the path of its data file) is required`, {
      hint: `pass --data FILE to lsp bench, or benchmarkOptions: { data: 'path/to/${benchmark}.jsonl' } in lsp.config.ts`,
    });
  }
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    throw new ConfigError(`benchmark ${benchmark}: option limit must be a positive integer, got ${JSON.stringify(limit)}`);
  }
  return limit === undefined ? { data } : { data, limit };
}

/** A value's kind in words, for error lines. */
export function describe(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
