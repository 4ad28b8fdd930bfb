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

  findByName(name: string): Promise<Domain | null> {
    return this.prisma.domain.findUnique({ where: { name: name.trim().toLowerCase().replace(/\.$/, '') } });
  }

  listByAccount(accountId: string): Promise<Domain[]> {
    return this.prisma.domain.findMany({ where: { accountId }, orderBy: { name: 'asc' } });
  }
}
