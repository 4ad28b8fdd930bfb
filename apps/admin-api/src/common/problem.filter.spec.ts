import { BadRequestException, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { AccountRuleCode, AccountRuleException } from '@mailwarden/accounts';
import { MigrationErrorCode, MigrationException } from '@mailwarden/mode-migrations';
import { ProblemFilter } from './problem.filter';
import { ApiProblem, ProblemCode } from './problem-code';

function answer(exception: unknown, params: Record<string, string> = {}): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const sent = { status: 0, headers: {} as Record<string, string>, body: {} as Record<string, unknown> };
  const response = {
    status(code: number) {
      sent.status = code;
      return response;
    },
    setHeader(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
    },
    send(body: string) {
      sent.body = JSON.parse(body) as Record<string, unknown>;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => response, getRequest: () => ({ params }) }) } as unknown as ArgumentsHost;
  new ProblemFilter().catch(exception, host);
  return sent;
}

describe(ProblemFilter.name, () => {
  it('should answer problem+json with a stable type and code', () => {
    const sent = answer(new ApiProblem(409, ProblemCode.QuarantineNotEnforced, 'nothing to release'));
    expect(sent.status).toBe(409);
    expect(sent.headers['content-type']).toBe('application/problem+json');
    expect(sent.body).toEqual({ type: 'urn:mailwarden:problem:quarantine-not-enforced', title: 'Conflict', status: 409, detail: 'nothing to release', code: 'QUARANTINE_NOT_ENFORCED' });
  });

  it('should pass headers such as Retry-After through', () => {
    expect(answer(new ApiProblem(429, ProblemCode.RateLimited, 'slow down', undefined, { 'Retry-After': '12' })).headers['retry-after']).toBe('12');
  });

  it('should map the rule codes of libs/accounts and libs/mode-migrations', () => {
    expect(answer(new AccountRuleException(AccountRuleCode.DomainAlreadyConnected, 'twice')).body).toMatchObject({ status: 409, code: 'DOMAIN_ALREADY_CONNECTED' });
    expect(answer(new AccountRuleException(AccountRuleCode.AccountNotFound, 'gone')).body).toMatchObject({ status: 404 });
    expect(answer(new MigrationException(MigrationErrorCode.InvalidPlan, 'no target')).body).toMatchObject({ status: 400, code: 'INVALID_PLAN' });
    expect(answer(new MigrationException(MigrationErrorCode.MigrationFailed, 'failed')).body).toMatchObject({ status: 409, code: 'MIGRATION_FAILED' });
  });

  it('should name the path parameter a pipe refused, never a word of the message (issue 13)', () => {
    const uuid = '7b1f0c2e-4f4a-4d2b-9d7e-2f1c3b4a5d6e';
    const sent = answer(new BadRequestException({ message: 'Validation failed (uuid is expected)' }), { accountId: uuid, messageId: 'nope' });
    expect(sent.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: [{ field: 'messageId', code: 'INVALID_VALUE', message: 'Validation failed (uuid is expected)' }] });
    const unnamed = answer(new BadRequestException({ message: ['name must be a string'] }));
    expect(unnamed.body).toMatchObject({ errors: [{ field: '(request)', message: 'name must be a string' }] });
  });

  it('should answer unknown routes 404 and hide internal errors', () => {
    expect(answer(new NotFoundException('Cannot GET /nope')).body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    const internal = answer(new Error('connection string postgres://secret@db'));
    expect(internal.body).toEqual({ type: 'urn:mailwarden:problem:internal', title: 'Internal Server Error', status: 500, detail: 'internal error', code: 'INTERNAL' });
  });
});
