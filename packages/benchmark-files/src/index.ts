// @lsp/benchmark-files: reading benchmark data files (JSONL or a JSON array of objects) for benchmark plugins,
// with typed fields and one-line refusals naming the file, the line and the field.
export {
  checkFileOptions, describe, idField, optionalLabel, optionalStringField, parseRecords, readRecords, stringArrayField, stringField,
} from './records';
export type { DataRecord, FileOptions } from './records';
