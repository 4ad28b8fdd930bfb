import { Injectable } from '@nestjs/common';
import { DomainRepository, type MailflowConnector } from '@mailwarden/db';
import { actorOf, type Principal } from '../common/principal';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { TenantAccess } from '../common/tenant-access.service';
import type { MailflowConnectorDto } from './dto/mailflow-connector.dto';
import type { SetMailflowConnectorDto } from './dto/set-mailflow-connector.dto';

function toDto(connector: MailflowConnector): MailflowConnectorDto {
  return {
    accountId: connector.accountId,
    sourceIps: connector.sourceIps,
    tlsCertName: connector.tlsCertName,
    createdAt: connector.createdAt.toISOString(),
    updatedAt: connector.updatedAt.toISOString(),
  };
}

/** The Microsoft 365 connector registration a MAILFLOW domain needs (the mailflow front takes its mail only from it). */
@Injectable()
export class MailflowConnectorService {
  constructor(
    private readonly domains: DomainRepository,
    private readonly access: TenantAccess,
  ) {}

  async get(principal: Principal, accountId: string): Promise<MailflowConnectorDto> {
    await this.access.account(principal, accountId);
    const connector = await this.domains.findConnector(accountId);
    if (!connector) {
      throw ApiProblem.notFound('mailflow connector of account', accountId);
    }
    return toDto(connector);
  }

  async set(principal: Principal, accountId: string, dto: SetMailflowConnectorDto): Promise<MailflowConnectorDto> {
    await this.access.account(principal, accountId);
    const sourceIps = [...new Set(dto.sourceIps.map((range) => range.trim().toLowerCase()))];
    const tlsCertName = dto.tlsCertName ? dto.tlsCertName.trim().toLowerCase().replace(/\.$/, '') : null;
    if (sourceIps.length === 0 && !tlsCertName) {
      // A connector with neither would match nothing: every MAILFLOW domain's mail would be refused.
      throw new ApiProblem(400, ProblemCode.ValidationFailed, 'give the connector source IP ranges, a TLS certificate name, or both', [
        { field: 'sourceIps', code: 'required', message: 'sourceIps or tlsCertName is required' },
      ]);
    }
    return toDto(await this.domains.saveConnector(accountId, { sourceIps, tlsCertName }, actorOf(principal)));
  }

  async remove(principal: Principal, accountId: string): Promise<MailflowConnectorDto> {
    await this.access.account(principal, accountId);
    const outcome = await this.domains.removeConnector(accountId, actorOf(principal));
    if (!outcome) {
      throw ApiProblem.notFound('mailflow connector of account', accountId);
    }
    if ('inUse' in outcome) {
      throw new ApiProblem(
        409,
        ProblemCode.ConnectorInUse,
        `domains still take mail through the connector: ${outcome.inUse.join(', ')}; move them out of MAILFLOW mode with a mode migration first`,
      );
    }
    return toDto(outcome.removed);
  }
}
