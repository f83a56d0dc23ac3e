/** One bad field of a request, as a 400 lists it: its path (e.g. "timeOfUse[0].from") and what is wrong with it. */
export interface FieldProblem { field: string; message: string }

/** An error an API route throws to answer with a client error status; mapped to a response in core/http only. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 422 | 429 | 502 | 503 | 504,
    message: string,
    /** For 400: one entry per bad field. */
    readonly errors: FieldProblem[] = [],
    /** For 429 and 503: sent as Retry-After. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static badRequest(errors: FieldProblem[], message?: string): ApiError {
    return new ApiError(400, message ?? errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  }

  static notFound(what: string): ApiError {
    return new ApiError(404, `${what} not found`);
  }

  static conflict(message: string): ApiError {
    return new ApiError(409, message);
  }
}

/** A plugin failed in one of its hooks (start, stop, a job). */
export class PluginError extends Error {
  constructor(readonly plugin: string, readonly hook: string, cause: unknown) {
    super(`${plugin}/${hook}: ${errorMessage(cause)}`, { cause });
    this.name = 'PluginError';
  }
}

/** A hardware device did not answer or answered nonsense; retryable errors are retried with backoff. */
export class DeviceError extends Error {
  constructor(readonly adapter: string, message: string, readonly retryable: boolean, cause?: unknown) {
    super(`${adapter}: ${message}`, { cause });
    this.name = 'DeviceError';
  }
}

/** The message of anything thrown: an Error's message, else its text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
