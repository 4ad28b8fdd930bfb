import { Inject, Injectable, Logger } from '@nestjs/common';
import { MailflowHealthRepository, PrismaService, type MailflowAlert, type Prisma } from '@mailwarden/db';
import { compareMailflowObjects, describeDifference, type CreatedMailflowObject, type ExistingMailflowObject, type MailflowDifference } from './mailflow-tamper';

/**
 * Where the tamper check reads the two sides: what Mailwarden created (recorded by the mailflow setup steps) and
 * what Exchange Online holds now (`Get-InboundConnector`, `Get-OutboundConnector`, `Get-TransportRule`).
 */
export interface MailflowObjectsSource {
  /** Accounts with at least one object Mailwarden created and did not remove. */
  accountsWithObjects(): Promise<string[]>;
  created(accountId: string): Promise<CreatedMailflowObject[]>;
  existing(accountId: string, kinds: ReadonlySet<CreatedMailflowObject['kind']>): Promise<ExistingMailflowObject[]>;
}

export const MAILFLOW_OBJECTS_SOURCE = Symbol('MAILFLOW_OBJECTS_SOURCE');

export interface TamperCheckOutcome {
  status: 'HEALTHY' | 'DEGRADED' | 'NOTHING_TO_WATCH';
  differences: MailflowDifference[];
  alert: MailflowAlert | null;
}

/**
 * The scheduled tamper check (issue 16): compares Mailwarden's Exchange Online objects with what exists; a
 * difference marks the account's mailflow domains DEGRADED and records an alert (audited, exported); matching again
 * clears it (and records that). It never changes anything in Exchange Online: fixing is the admin's decision.
 */
@Injectable()
export class MailflowTamperService {
  private readonly logger = new Logger(MailflowTamperService.name);

  constructor(
    @Inject(MAILFLOW_OBJECTS_SOURCE) private readonly source: MailflowObjectsSource,
    private readonly repository: MailflowHealthRepository,
    private readonly prisma: PrismaService,
  ) {}

  accountsToWatch(): Promise<string[]> {
    return this.source.accountsWithObjects();
  }

  async check(accountId: string, now = new Date()): Promise<TamperCheckOutcome> {
    const created = await this.source.created(accountId);
    if (created.length === 0) {
      return { status: 'NOTHING_TO_WATCH', differences: [], alert: null };
    }
    // An Exchange Online failure (token, 5xx, throttling past the retries) throws: no verdict rather than a false one.
    const existing = await this.source.existing(accountId, new Set(created.map((object) => object.kind)));
    const differences = compareMailflowObjects(created, existing);
    const domains = await this.prisma.domain.findMany({
      where: { accountId, OR: [{ mode: 'MAILFLOW' }, { transitionMode: 'MAILFLOW' }] },
      select: { id: true, name: true },
      orderBy: { name: 'asc' },
    });
    const alert = await this.repository.recordCheck(
      accountId,
      domains,
      differences.map((difference) => ({ ...difference, description: describeDifference(difference) }) as unknown as Prisma.InputJsonValue),
      now,
    );
    const status = differences.length > 0 ? 'DEGRADED' : 'HEALTHY';
    if (alert) {
      this.logger.warn({ event: `microsoft365.mailflow.${alert.kind.toLowerCase()}`, accountId, alertId: alert.id, differences: differences.map(describeDifference) });
    }
    return { status, differences, alert };
  }
}
