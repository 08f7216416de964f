/**
 * One error base class for the whole SDK. Every error carries a stable `code` (switch on it, never on the
 * message), a `retriable` flag, an optional `cause`, and enumerable context fields (field, topic, offset, ...).
 */
export const ErrorCodes = [
  'INVALID_EVENT',
  'DECODE_FAILED',
  'ENCODE_FAILED',
  'MESSAGE_TOO_LARGE',
  'UNKNOWN_ITEM',
  'INVALID_OPTION',
  'INVALID_INPUT',
  'PARSE_FAILED',
  'FILE_NOT_FOUND',
  'MODEL_FORMAT',
  'UNSAFE_PATH',
  'BACKEND_UNAVAILABLE',
  'MISSING_PREREQUISITE',
  'NOT_TRAINED',
  'CLOSED',
  'CANCELLED',
  'KAFKA',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export interface NextclickErrorContext {
  readonly [key: string]: unknown;
}

export interface NextclickErrorOptions {
  readonly cause?: unknown;
  readonly retriable?: boolean;
  readonly context?: NextclickErrorContext;
}

export class NextclickError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: NextclickErrorContext;

  constructor(code: ErrorCode, message: string, options: NextclickErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // new.target keeps subclass names right without setting them by hand.
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, retriable: this.retriable, ...this.context };
  }
}

/** A click event failed validation; `field` names the offending field. */
export class InvalidEventError extends NextclickError {
  readonly field: string;
  constructor(field: string, message: string, options: NextclickErrorOptions = {}) {
    super('INVALID_EVENT', message, { ...options, context: { field, ...options.context } });
    this.field = field;
  }
}

/** Bytes could not be decoded by a codec (carries topic/partition/offset when known). */
export class DecodeError extends NextclickError {
  constructor(message: string, options: NextclickErrorOptions = {}) {
    super('DECODE_FAILED', message, options);
  }
}

/** An option or argument is invalid; `option` names it. */
export class InvalidOptionError extends NextclickError {
  readonly option: string;
  constructor(option: string, message: string, options: NextclickErrorOptions = {}) {
    super('INVALID_OPTION', message, { ...options, context: { option, ...options.context } });
    this.option = option;
  }
}

/** A line of an input file could not be parsed (carries file and line). */
export class ParseError extends NextclickError {
  constructor(message: string, options: NextclickErrorOptions = {}) {
    super('PARSE_FAILED', message, options);
  }
}

/** A saved model directory is missing, corrupt, of another version, or has inconsistent shapes. */
export class ModelFormatError extends NextclickError {
  constructor(message: string, options: NextclickErrorOptions = {}) {
    super('MODEL_FORMAT', message, options);
  }
}

/** Thrown when an operation is attempted on a closed component. */
export class ClosedError extends NextclickError {
  constructor(what: string) {
    super('CLOSED', `${what} is closed; create a new instance.`);
  }
}

/** Thrown by long-running work (training, replay) when its AbortSignal fires. */
export class CancelledError extends NextclickError {
  constructor(what: string) {
    super('CANCELLED', `${what} was cancelled.`);
  }
}

/** A tool a setup step needs (Python, pip, a C++ compiler, Node's headers...) is missing; names the Debian package. */
export class MissingPrerequisiteError extends NextclickError {
  readonly tool: string;
  readonly debianPackage: string;
  constructor(tool: string, debianPackage: string, message: string, options: NextclickErrorOptions = {}) {
    super('MISSING_PREREQUISITE', message, { ...options, context: { tool, debianPackage, ...options.context } });
    this.tool = tool;
    this.debianPackage = debianPackage;
  }
}

export function isNextclickError(value: unknown): value is NextclickError {
  return value instanceof NextclickError;
}
