import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Account, Domain } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';

export interface CreateAccountInput {
  name: string;
  partnerId?: string | null;
  monitorOnly?: boolean;
  journalSourceIps?: string[];
  journalRequireTls?: boolean;
}

/** A journal token: the local part of the account's journal address. Unguessable, lower-case, DNS/SMTP-safe. */
export function newJournalToken(): string {
  return `j-${randomBytes(12).toString('hex')}`;
}

@Injectable()
export class AccountRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(input: CreateAccountInput): Promise<Account> {
    return this.prisma.account.create({
      data: {
        name: input.name,
        partnerId: input.partnerId ?? null,
        monitorOnly: input.monitorOnly ?? true,
        journalToken: newJournalToken(),
        journalSourceIps: input.journalSourceIps ?? [],
        journalRequireTls: input.journalRequireTls ?? false,
      },
    });
  }

  findById(id: string): Promise<Account | null> {
    return this.prisma.account.findUnique({ where: { id } });
  }

  findByJournalToken(token: string): Promise<(Account & { domains: Domain[] }) | null> {
    return this.prisma.account.findUnique({ where: { journalToken: token.toLowerCase() }, include: { domains: true } });
  }

  setMonitorOnly(id: string, monitorOnly: boolean): Promise<Account> {
    return this.prisma.account.update({ where: { id }, data: { monitorOnly } });
  }
}
