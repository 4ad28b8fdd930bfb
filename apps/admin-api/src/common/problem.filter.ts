import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { AccountRuleCode, AccountRuleException } from '@mailwarden/accounts';
import { MigrationErrorCode, MigrationException } from '@mailwarden/mode-migrations';
import { ApiProblem, ProblemCode, type ProblemFieldError } from './problem-code';

interface HttpResponse {
  status(code: number): HttpResponse;
  setHeader(name: string, value: string): void;
  send(body: string): void;
  headersSent?: boolean;
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: ProblemFieldError[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const ACCOUNT_RULE_STATUS: Record<AccountRuleCode, number> = {
  [AccountRuleCode.MonitorOnlyAllowsJournalOnly]: 409,
  [AccountRuleCode.EnforcingDomainsPresent]: 409,
  [AccountRuleCode.DomainAlreadyConnected]: 409,
  [AccountRuleCode.DomainNotInAccount]: 404,
  [AccountRuleCode.AccountNotFound]: 404,
  [AccountRuleCode.DomainNotFound]: 404,
  [AccountRuleCode.InvalidInput]: 400,
};

const MIGRATION_STATUS: Record<MigrationErrorCode, number> = {
  [MigrationErrorCode.AccountNotFound]: 404,
  [MigrationErrorCode.MigrationNotFound]: 404,
  [MigrationErrorCode.MigrationAlreadyActive]: 409,
  [MigrationErrorCode.WrongStartingMode]: 409,
  [MigrationErrorCode.InvalidPlan]: 400,
  [MigrationErrorCode.MigrationFinished]: 409,
  [MigrationErrorCode.MigrationFailed]: 409,
  [MigrationErrorCode.NothingToRetry]: 409,
};

/** `urn:mailwarden:problem:<code>`: stable, resolvable against the code table in the admin API README. */
export function problemType(code: string): string {
  return `urn:mailwarden:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

/** class-validator messages as field errors: "name must be a string" → { field: 'name', ... }. */
function validationErrors(messages: unknown): ProblemFieldError[] {
  const list = Array.isArray(messages) ? messages : [messages];
  return list.map((message) => {
    const text = String(message);
    const field = /^property (\S+) should not exist$/.exec(text)?.[1] ?? text.split(' ')[0] ?? '';
    return { field, code: /should not exist$/.test(text) ? 'UNKNOWN_FIELD' : 'INVALID_VALUE', message: text };
  });
}

/**
 * The one place errors become HTTP answers: every error is `application/problem+json` (RFC 9457) with
 * `type`, `title`, `status`, `detail`, a stable `code` and, for validation, `errors[]`.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<HttpResponse>();
    const { problem, headers } = this.toProblem(exception);
    if (response.headersSent) {
      return;
    }
    for (const [name, value] of Object.entries(headers ?? {})) {
      response.setHeader(name, value);
    }
    response.setHeader('Content-Type', 'application/problem+json');
    response.status(problem.status).send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown): { problem: Problem; headers?: Record<string, string> } {
    const make = (status: number, code: string, detail: string, errors?: ProblemFieldError[]): Problem => ({
      type: problemType(code),
      title: TITLES[status] ?? 'Error',
      status,
      detail,
      code,
      ...(errors && errors.length > 0 ? { errors } : {}),
    });
    if (exception instanceof ApiProblem) {
      return { problem: make(exception.status, exception.code, exception.detail, exception.errors), headers: exception.headers };
    }
    if (exception instanceof AccountRuleException) {
      return { problem: make(ACCOUNT_RULE_STATUS[exception.code] ?? 409, exception.code, exception.message) };
    }
    if (exception instanceof MigrationException) {
      return { problem: make(MIGRATION_STATUS[exception.code] ?? 409, exception.code, exception.message) };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse() as { message?: unknown } | string;
      if (status === 400 && typeof body === 'object' && body.message !== undefined) {
        const errors = validationErrors(body.message);
        return { problem: make(400, ProblemCode.ValidationFailed, errors.map((error) => error.message).join('; '), errors) };
      }
      const code = status === 404 ? ProblemCode.NotFound : status === 401 ? ProblemCode.Unauthenticated : `HTTP_${status}`;
      return { problem: make(status, code, typeof body === 'string' ? body : exception.message) };
    }
    this.logger.error({ event: 'admin_api.unhandled_error', error: (exception as Error)?.message, stack: (exception as Error)?.stack });
    return { problem: make(500, ProblemCode.Internal, 'internal error') };
  }
}
