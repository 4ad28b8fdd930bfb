import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { ApiKey, ApiKeyRole } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';
import { DUMMY_SECRET_HASH, hashSecret, verifySecret } from './secret-hash';

export interface CreateApiKeyInput {
  name: string;
  role: ApiKeyRole;
  accountId?: string | null;
  partnerId?: string | null;
}

/** The key as shown once at creation: `mw_<prefix>_<secret>`. */
export interface CreatedApiKey {
  key: ApiKey;
  plaintext: string;
}

/** API key secrets are hashed like passwords (secret-hash.ts): the names are kept for their callers. */
export const hashApiKeySecret = hashSecret;
export const verifyApiKeySecret = verifySecret;
export const DUMMY_API_KEY_HASH = DUMMY_SECRET_HASH;

/** Splits `mw_<prefix>_<secret>`; null when the text is not shaped like a Mailwarden key. */
export function parseApiKey(plaintext: string): { prefix: string; secret: string } | null {
  const match = /^mw_([a-z0-9]{12})_([A-Za-z0-9_-]{32,})$/.exec(plaintext.trim());
  return match ? { prefix: match[1]!, secret: match[2]! } : null;
}

@Injectable()
export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    const prefix = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
    const secret = randomBytes(24).toString('base64url');
    const key = await this.prisma.apiKey.create({
      data: {
        prefix,
        hash: await hashApiKeySecret(secret),
        name: input.name,
        role: input.role,
        accountId: input.accountId ?? null,
        partnerId: input.partnerId ?? null,
      },
    });
    return { key, plaintext: `mw_${prefix}_${secret}` };
  }

  revoke(id: string): Promise<ApiKey> {
    return this.prisma.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
  }
}
