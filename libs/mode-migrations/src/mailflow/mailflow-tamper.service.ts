import { Injectable, Logger, Optional } from '@nestjs/common';
import { MailflowHealthRepository, MailflowObjectRepository, PrismaService, type MailflowAlert, type Prisma } from '@mailwarden/db';
import { Microsoft365Service } from '@mailwarden/microsoft365';
import { compareMailflowObjects, describeDifference, type ExchangeMailflowState, type MailflowDifference } from './mailflow-tamper';

export interface TamperCheckOutcome {
  status: 'HEALTHY' | 'DEGRADED' | 'NOTHING_TO_WATCH';
  differences: MailflowDifference[];
  alert: MailflowAlert | null;
}

/**
 * The scheduled tamper check (issue 16): compares Mailwarden's Exchange Online objects (`mailflow_object`) with what
 * exists. A difference marks the account's mailflow domains DEGRADED and records an alert (audited, in the outbox
 * for the SIEM export); matching again clears it (and records that). It only reads Exchange Online: fixing is the
 * admin's decision (plan the migration again, or repair it in the Exchange admin center).
 */
@Injectable()
export class MailflowTamperService {
  private readonly logger = new Logger(MailflowTamperService.name);

  constructor(
    private readonly objects: MailflowObjectRepository,
    private readonly health: MailflowHealthRepository,
    private readonly prisma: PrismaService,
    @Optional() private readonly microsoft365?: Microsoft365Service,
  ) {}

  accountsToWatch(): Promise<string[]> {
    return this.objects.accountsWithObjects();
  }

  async check(accountId: string, now = new Date()): Promise<TamperCheckOutcome> {
    const created = await this.objects.list(accountId);
    if (created.length === 0 || !this.microsoft365?.isConfigured) {
      return { status: 'NOTHING_TO_WATCH', differences: [], alert: null };
    }
    // An Exchange Online failure (token, 5xx, throttling past the retries) throws: no verdict rather than a false one.
    const exchange = this.microsoft365.exchange(created[0]!.tenantId);
    const kinds = new Set(created.map((object) => object.kind));
    const get = async (cmdlet: string, kind: string) => (kinds.has(kind) ? (await exchange.invoke(cmdlet)).value : []);
    const state: ExchangeMailflowState = {
      inboundConnectors: await get('Get-InboundConnector', 'INBOUND_CONNECTOR'),
      outboundConnectors: await get('Get-OutboundConnector', 'OUTBOUND_CONNECTOR'),
      transportRules: await get('Get-TransportRule', 'TRANSPORT_RULE'),
      arcTrustedSealers: kinds.has('ARC_TRUSTED_SEALER') ? sealersOf((await exchange.invoke('Get-ArcConfig')).value[0]) : [],
    };
    const differences = compareMailflowObjects(created, state);
    const domains = await this.prisma.domain.findMany({
      where: { accountId, OR: [{ mode: 'MAILFLOW' }, { transitionMode: 'MAILFLOW' }] },
      select: { id: true, name: true },
      orderBy: { name: 'asc' },
    });
    const alert = await this.health.recordCheck(
      accountId,
      domains,
      differences.map((difference) => ({ ...difference, description: describeDifference(difference) }) as unknown as Prisma.InputJsonValue),
      now,
    );
    if (alert) {
      this.logger.warn({ event: `mode_migration.mailflow_${alert.kind.toLowerCase()}`, accountId, alertId: alert.id, differences: differences.map(describeDifference) });
    }
    return { status: differences.length > 0 ? 'DEGRADED' : 'HEALTHY', differences, alert };
  }
}

/** Get-ArcConfig's ArcTrustedSealers: a list, or one comma-separated string. */
function sealersOf(config: Record<string, unknown> | undefined): string[] {
  const value = config?.ArcTrustedSealers;
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  return items.filter((item): item is string => typeof item === 'string').map((item) => item.trim()).filter(Boolean);
}
