import { ProblemCode } from './problem-code';
import { problemType } from './problem.filter';

/** Deepest nesting of objects and arrays a request body may have; our deepest DTO (policies) needs under 10. */
export const MAX_JSON_DEPTH = 32;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

interface BodyError extends Error {
  status: number;
  problemCode: string;
  field: string;
  fieldCode: string;
}

function bodyError(message: string, fieldCode: string): BodyError {
  return Object.assign(new Error(message), { status: 400, problemCode: ProblemCode.ValidationFailed, field: 'body', fieldCode });
}

/** Nesting depth of a JSON text, counted on its bytes (brackets inside strings do not count). */
export function jsonDepth(body: Buffer, stopAbove = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < body.length; index++) {
    const byte = body[index]!;
    if (inString) {
      if (byte === BACKSLASH) {
        index++;
      } else if (byte === QUOTE) {
        inString = false;
      }
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) {
          return deepest;
        }
      }
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}

/**
 * body-parser's `verify` hook: refuses a body nested deeper than MAX_JSON_DEPTH before it is parsed, so validation
 * and transformation (recursive) never see it. 5,000 levels overflowed the stack in class-transformer: a 500.
 */
export function refuseDeepJson(_request: unknown, _response: unknown, body: Buffer): void {
  if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw bodyError(`the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`, 'TOO_DEEPLY_NESTED');
  }
}

interface HttpResponse {
  status(code: number): HttpResponse;
  setHeader(name: string, value: string): void;
  send(body: string): void;
  headersSent?: boolean;
}

/**
 * Express error middleware right behind the body parser: its refusals (malformed JSON, too deep, too large, wrong
 * charset) answer problem+json like every other error, instead of Express's HTML page.
 */
export function bodyParserErrors(error: unknown, _request: unknown, response: HttpResponse, next: (error?: unknown) => void): void {
  const failure = error as Partial<BodyError> & { type?: string; status?: number; message?: string };
  if (response.headersSent || typeof failure?.status !== 'number' || failure.status < 400 || failure.status >= 500) {
    next(error);
    return;
  }
  const status = failure.status;
  const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : ProblemCode.ValidationFailed;
  const fieldCode = failure.fieldCode ?? (failure.type === 'entity.parse.failed' ? 'MALFORMED_JSON' : code);
  const detail = failure.fieldCode ? failure.message! : failure.type === 'entity.parse.failed' ? 'the body is not valid JSON' : (failure.message ?? 'the body was refused');
  const titles: Record<number, string> = { 400: 'Bad Request', 413: 'Payload Too Large', 415: 'Unsupported Media Type' };
  response.setHeader('Content-Type', 'application/problem+json');
  response
    .status(status)
    .send(JSON.stringify({ type: problemType(code), title: titles[status] ?? 'Bad Request', status, detail, code, errors: [{ field: 'body', code: fieldCode, message: detail }] }));
}
