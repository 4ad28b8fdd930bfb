import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { Injectable } from '@nestjs/common';
import type { ApiKey, ApiKeyRole } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

// scrypt cost: N=2^15, r=8, p=1 (OWASP's minimum for scrypt), 32 MiB of memory per check.
const SCRYPT = { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

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

export async function hashApiKeySecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const derived = await scrypt(secret, salt, 32, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), derived.toString('base64')].join('$');
}

/**
 * A well-formed hash no secret matches (its derived bytes are zeros): an unknown or revoked key is checked against
 * it, so that every refusal of a well-formed key costs the same scrypt run and takes the same time.
 */
export const DUMMY_API_KEY_HASH = ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, Buffer.alloc(16, 7).toString('base64'), Buffer.alloc(32).toString('base64')].join('$');

export async function verifyApiKeySecret(secret: string, stored: string): Promise<boolean> {
  const [algorithm, n, r, p, salt, hash] = stored.split('$');
  if (algorithm !== 'scrypt' || !salt || !hash) {
    return false;
  }
  const expected = Buffer.from(hash, 'base64');
  const derived = await scrypt(secret, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(derived, expected);
}

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
