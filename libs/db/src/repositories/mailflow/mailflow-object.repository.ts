import { Injectable } from '@nestjs/common';
import type { MailflowObject, Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma.service';

type Db = PrismaService | Prisma.TransactionClient;

/** What Mailwarden creates in a tenant's Exchange Online for mailflow (one row per object; see `MailflowObject`). */
export type MailflowObjectKind = 'INBOUND_CONNECTOR' | 'OUTBOUND_CONNECTOR' | 'TRANSPORT_RULE' | 'ARC_TRUSTED_SEALER';

export interface MailflowObjectRecord {
  accountId: string;
  tenantId: string;
  kind: MailflowObjectKind;
  /** Exchange Name (= Identity); for ARC_TRUSTED_SEALER the sealer domain. */
  name: string;
  exchangeGuid: string | null;
  /** The parameters Mailwarden gave New-/Set- (what tamper detection compares). */
  parameters: Prisma.InputJsonValue;
  migrationId: string | null;
}

/**
 * The Exchange Online objects Mailwarden created per account (table `mailflow_object`). Written by the mailflow
 * migration steps right after Exchange answered (not in the step's transaction, so a later failure of the step keeps
 * the record); read by tamper detection; a row goes when its object was removed.
 */
@Injectable()
export class MailflowObjectRepository {
  constructor(private readonly prisma: PrismaService) {}

  list(accountId: string, db: Db = this.prisma): Promise<MailflowObject[]> {
    return db.mailflowObject.findMany({ where: { accountId }, orderBy: [{ kind: 'asc' }, { name: 'asc' }] });
  }

  /** Every account with recorded objects (tamper detection's round). */
  async accountsWithObjects(): Promise<string[]> {
    const rows = await this.prisma.mailflowObject.findMany({ distinct: ['accountId'], select: { accountId: true } });
    return rows.map((row) => row.accountId);
  }

  record(input: MailflowObjectRecord, db: Db = this.prisma): Promise<MailflowObject> {
    const { accountId, kind, name, ...rest } = input;
    return db.mailflowObject.upsert({
      where: { accountId_kind_name: { accountId, kind, name } },
      create: { accountId, kind, name, ...rest },
      update: { tenantId: rest.tenantId, exchangeGuid: rest.exchangeGuid, parameters: rest.parameters, migrationId: rest.migrationId },
    });
  }

  async remove(accountId: string, kind: MailflowObjectKind, name: string, db: Db = this.prisma): Promise<void> {
    await db.mailflowObject.deleteMany({ where: { accountId, kind, name } });
  }
}
