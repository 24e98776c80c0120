// Errors of the LSP specification. Each carries a Symbol.for marker so that two copies of @lsp/core in one
// dependency tree still recognise each other's errors (use `isInstance`, never `instanceof`).

const lspErrorMarker = Symbol.for('lsp.error');

export interface LspErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class LspError extends Error {
  /** A stable machine-readable code, e.g. 'lsp.plugin'. */
  readonly code: string;
  /** What the user should do about it, printed after the message. */
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: LspErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'LspError';
    this.code = code;
    this.hint = options.hint;
    Object.defineProperty(this, lspErrorMarker, { value: true });
    Object.defineProperty(this, Symbol.for(code), { value: true });
  }

  static isInstance(error: unknown): error is LspError {
    return hasMarker(error, lspErrorMarker);
  }

  /** The one line shown to a user: the message, then the hint. */
  toLine(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }
}

function hasMarker(error: unknown, marker: symbol): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
}

/** The configuration (lsp.config.ts or flags) is invalid. */
export class ConfigError extends LspError {
  constructor(message: string, options?: LspErrorOptions) {
    super('lsp.config', message, options);
    this.name = 'ConfigError';
  }
  static override isInstance(error: unknown): error is ConfigError {
    return hasMarker(error, Symbol.for('lsp.config'));
  }
}

/** A plugin could not be found, was built for another specification version, or failed its shape check. */
export class PluginError extends LspError {
  constructor(message: string, options?: LspErrorOptions) {
    super('lsp.plugin', message, options);
    this.name = 'PluginError';
  }
  static override isInstance(error: unknown): error is PluginError {
    return hasMarker(error, Symbol.for('lsp.plugin'));
  }
}

/** A file the user supplied (safetensors, tokenizer.json, config.json, JSONL input) is malformed or unsupported. */
export class InvalidInputError extends LspError {
  constructor(message: string, options?: LspErrorOptions) {
    super('lsp.input', message, options);
    this.name = 'InvalidInputError';
  }
  static override isInstance(error: unknown): error is InvalidInputError {
    return hasMarker(error, Symbol.for('lsp.input'));
  }
}

/** Training met a non-finite loss or gradient; the step was refused. */
export class NonFiniteError extends LspError {
  constructor(message: string, options?: LspErrorOptions) {
    super('lsp.non-finite', message, options);
    this.name = 'NonFiniteError';
  }
  static override isInstance(error: unknown): error is NonFiniteError {
    return hasMarker(error, Symbol.for('lsp.non-finite'));
  }
}

/** A backend, judge server or other resource is not available on this machine. */
export class UnavailableError extends LspError {
  constructor(message: string, options?: LspErrorOptions) {
    super('lsp.unavailable', message, options);
    this.name = 'UnavailableError';
  }
  static override isInstance(error: unknown): error is UnavailableError {
    return hasMarker(error, Symbol.for('lsp.unavailable'));
  }
}
