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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A 400 from a pipe other than the global ValidationPipe (whose errors already name their paths): Nest's
 * ParseUUIDPipe says "Validation failed (uuid is expected)" without naming the parameter, so the field is the path
 * parameter that is not a UUID (issue 13: never a word of the message); `(request)` when none can be named.
 */
function validationErrors(messages: unknown, params: Record<string, string>): ProblemFieldError[] {
  const list = Array.isArray(messages) ? messages : [messages];
  return list.map((message) => {
    const text = String(message);
    const notUuid = /uuid is expected/.test(text) ? Object.keys(params).filter((name) => !UUID.test(params[name] ?? '')) : [];
    return { field: notUuid.length === 1 ? notUuid[0]! : '(request)', code: 'INVALID_VALUE', message: text };
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
    const params = host.switchToHttp().getRequest<{ params?: Record<string, string> }>()?.params ?? {};
    const { problem, headers } = this.toProblem(exception, params);
    if (response.headersSent) {
      return;
    }
    for (const [name, value] of Object.entries(headers ?? {})) {
      response.setHeader(name, value);
    }
    response.setHeader('Content-Type', 'application/problem+json');
    response.status(problem.status).send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown, params: Record<string, string> = {}): { problem: Problem; headers?: Record<string, string> } {
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
        const errors = validationErrors(body.message, params);
        return { problem: make(400, ProblemCode.ValidationFailed, errors.map((error) => error.message).join('; '), errors) };
      }
      const code = status === 404 ? ProblemCode.NotFound : status === 401 ? ProblemCode.Unauthenticated : `HTTP_${status}`;
      return { problem: make(status, code, typeof body === 'string' ? body : exception.message) };
    }
    this.logger.error({ event: 'admin_api.unhandled_error', error: (exception as Error)?.message, stack: (exception as Error)?.stack });
    return { problem: make(500, ProblemCode.Internal, 'internal error') };
  }
}
