import { randomBytes } from 'node:crypto';
import { hashApiKeySecret, newApiKey, newJournalToken, type PrismaClient } from '@mailwarden/db';

export const DEMO_ACCOUNT_NAME = 'Demo tenant';
export const DEMO_DOMAIN = 'demo.mailwarden.test';

export interface SeedResult {
  created: boolean;
  accountId: string;
  journalAddress: string;
  /** Shown once, when the key is created; null when the demo account already existed. */
  apiKey: string | null;
}

/**
 * Seeds the demo tenant for `npm start`: monitor-only on, one JOURNAL domain, one tenant-admin API key
 * (returned in plain text once). Idempotent: a second run finds the account and changes nothing.
 */
export async function seedDemo(prisma: PrismaClient, journalDomain: string): Promise<SeedResult> {
  const existing = await prisma.account.findFirst({ where: { name: DEMO_ACCOUNT_NAME }, orderBy: { createdAt: 'asc' } });
  if (existing) {
    return { created: false, accountId: existing.id, journalAddress: `${existing.journalToken}@${journalDomain}`, apiKey: null };
  }
  const { prefix, secret, plaintext } = newApiKey();
  const account = await prisma.$transaction(async (tx) => {
    const created = await tx.account.create({
      data: { name: DEMO_ACCOUNT_NAME, monitorOnly: true, journalToken: newJournalToken() },
    });
    await tx.domain.create({
      data: {
        accountId: created.id,
        name: DEMO_DOMAIN,
        mode: 'JOURNAL',
        verificationStatus: 'VERIFIED',
        verifiedAt: new Date(),
        verificationToken: `mailwarden-verification=${randomBytes(16).toString('hex')}`,
      },
    });
    const key = await tx.apiKey.create({
      data: { prefix, hash: await hashApiKeySecret(secret), name: 'demo', role: 'TENANT_ADMIN', accountId: created.id },
    });
    await tx.auditEvent.create({
      data: { actor: 'system:seed', accountId: created.id, action: 'account.seeded', objectType: 'account', objectId: created.id, after: { apiKeyId: key.id } },
    });
    return created;
  });
  return {
    created: true,
    accountId: account.id,
    journalAddress: `${account.journalToken}@${journalDomain}`,
    apiKey: plaintext,
  };
}
