import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Domain, DomainMode } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';

export interface CreateDomainInput {
  accountId: string;
  name: string;
  mode?: DomainMode;
}

@Injectable()
export class DomainRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(input: CreateDomainInput): Promise<Domain> {
    return this.prisma.domain.create({
      data: {
        accountId: input.accountId,
        name: input.name.trim().toLowerCase().replace(/\.$/, ''),
        mode: input.mode ?? 'JOURNAL',
        verificationToken: `mailwarden-verification=${randomBytes(16).toString('hex')}`,
      },
    });
  }

  /** The account holding the name verified (its owner), if any; unverified rows of other accounts are not owners. */
  findVerifiedByName(name: string): Promise<Domain | null> {
    return this.prisma.domain.findFirst({ where: { name: name.trim().toLowerCase().replace(/\.$/, ''), verificationStatus: 'VERIFIED' } });
  }

  listByAccount(accountId: string): Promise<Domain[]> {
    return this.prisma.domain.findMany({ where: { accountId }, orderBy: { name: 'asc' } });
  }
}
