// Errors of `lsp serve` in OpenAI's JSON shape: {"error": {"message", "type", "param", "code"}} with the status
// code OpenAI uses for the same fault, so clients (the `openai` package among them) raise their usual errors.

export interface ApiErrorOptions {
  type?: string;
  param?: string | null;
  code?: string | null;
}

/** A request the server refuses, or a fault while answering it. */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;

  constructor(status: number, message: string, options: ApiErrorOptions = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = options.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
    this.param = options.param ?? null;
    this.code = options.code ?? null;
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A 400 naming the request field at fault. */
export function invalidField(param: string, message: string, code: string | null = null): ApiError {
  return new ApiError(400, message, { param, code });
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function errorResponse(error: ApiError): Response {
  const headers: Record<string, string> = error.status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  return jsonResponse(error.status, error.body(), headers);
}
