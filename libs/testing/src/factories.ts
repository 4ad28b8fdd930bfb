import { createHash, randomBytes } from 'node:crypto';
import {
  ApiKeyRepository,
  AuditRepository,
  type Account,
  type ApiKeyRole,
  type CreatedApiKey,
  type Domain,
  type DomainMode,
  type Message,
  type MessageDirection,
  type MessageSource,
  type PrismaClient,
  type PrismaService,
} from '@mailwarden/db';

/** The audit actor of keys made by tests. */
const TEST_ACTOR = { actor: 'system:test', actorKeyId: null };

let sequence = 0;
const next = () => `${Date.now().toString(36)}${(sequence++).toString(36)}${randomBytes(2).toString('hex')}`;

export interface AccountOverrides {
  name?: string;
  monitorOnly?: boolean;
  partnerId?: string | null;
  journalSourceIps?: string[];
  journalRequireTls?: boolean;
}

export interface DomainOverrides {
  name?: string;
  mode?: DomainMode;
  verified?: boolean;
  downstreamHost?: string | null;
  downstreamPort?: number;
  /** false: a test sink with a self-signed certificate (TLS still required). */
  downstreamVerifyCert?: boolean;
}

export interface MessageOverrides {
  source?: MessageSource;
  direction?: MessageDirection;
  envelopeFrom?: string;
  envelopeTo?: string[];
  headerFrom?: string;
  subject?: string;
  messageIdHeader?: string;
  raw?: Buffer;
  receivedAt?: Date;
}

/** A minimal RFC 5322 message, CRLF line ends. */
export function buildRawMessage(fields: { from: string; to: string[]; subject: string; messageId: string; body?: string }): Buffer {
  return Buffer.from(
    [
      `From: ${fields.from}`,
      `To: ${fields.to.join(', ')}`,
      `Subject: ${fields.subject}`,
      `Message-ID: ${fields.messageId}`,
      'Date: Wed, 25 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      fields.body ?? 'Hello from the Mailwarden test factories.',
      '',
    ].join('\r\n'),
  );
}

/** Factories for test data, written straight through the Prisma client (Immich's medium.factory idea). */
export class TestFactories {
  constructor(private readonly prisma: PrismaClient) {}

  newAccount(overrides: AccountOverrides = {}): Promise<Account> {
    const id = next();
    return this.prisma.account.create({
      data: {
        name: overrides.name ?? `Account ${id}`,
        monitorOnly: overrides.monitorOnly ?? true,
        partnerId: overrides.partnerId ?? null,
        journalToken: `j-${id}`,
        journalSourceIps: overrides.journalSourceIps ?? [],
        journalRequireTls: overrides.journalRequireTls ?? false,
      },
    });
  }

  newDomain(account: Pick<Account, 'id'>, overrides: DomainOverrides = {}): Promise<Domain> {
    const verified = overrides.verified ?? true;
    return this.prisma.domain.create({
      data: {
        accountId: account.id,
        name: overrides.name ?? `d${next()}.example`,
        mode: overrides.mode ?? 'JOURNAL',
        verificationStatus: verified ? 'VERIFIED' : 'PENDING',
        verifiedAt: verified ? new Date() : null,
        verificationToken: `mailwarden-verification=${randomBytes(8).toString('hex')}`,
        downstreamHost: overrides.downstreamHost ?? null,
        downstreamPort: overrides.downstreamPort ?? 25,
        downstreamVerifyCert: overrides.downstreamVerifyCert ?? true,
      },
    });
  }

  /** An account-level policy row (settings as libs/policy stores them, e.g. `{ rules: [...] }` for Data Control). */
  newAccountPolicy(account: Pick<Account, 'id'>, kind: 'EMAIL_SECURITY' | 'DATA_CONTROL', settings: object = {}): Promise<unknown> {
    return this.prisma.policy.create({ data: { kind, scope: 'ACCOUNT', accountId: account.id, scopeId: account.id, settings } });
  }

  async newMessage(account: Pick<Account, 'id'>, overrides: MessageOverrides = {}): Promise<Message> {
    const id = next();
    const envelopeFrom = overrides.envelopeFrom ?? `sender-${id}@outside.example`;
    const envelopeTo = overrides.envelopeTo ?? [`user-${id}@inside.example`];
    const messageIdHeader = overrides.messageIdHeader ?? `<${id}@outside.example>`;
    const subject = overrides.subject ?? `Test message ${id}`;
    const raw =
      overrides.raw ??
      buildRawMessage({ from: overrides.headerFrom ?? envelopeFrom, to: envelopeTo, subject, messageId: messageIdHeader });
    const rawRow = await this.prisma.rawMessage.create({
      data: {
        content: new Uint8Array(raw.buffer as ArrayBuffer, raw.byteOffset, raw.byteLength),
        size: raw.byteLength,
        sha256: createHash('sha256').update(raw).digest('hex'),
      },
    });
    return this.prisma.message.create({
      data: {
        accountId: account.id,
        source: overrides.source ?? 'JOURNAL',
        direction: overrides.direction ?? 'INBOUND',
        envelopeFrom,
        envelopeTo,
        headerFrom: overrides.headerFrom ?? envelopeFrom,
        subject,
        messageIdHeader,
        size: raw.byteLength,
        rawMessageId: rawRow.id,
        receivedAt: overrides.receivedAt ?? new Date(),
      },
    });
  }

  /**
   * An API key made the way production makes them (`ApiKeyRepository.create`, audited): a TENANT_ADMIN or
   * READ_ONLY key of `accountId`, or a PARTNER_ADMIN key of `partnerId`. The plaintext is in the result.
   */
  newApiKey(input: { name: string; role: ApiKeyRole; accountId?: string; partnerId?: string }): Promise<CreatedApiKey> {
    return this.apiKeys().create({ accountId: input.accountId ?? null, partnerId: input.partnerId ?? null, name: input.name, role: input.role }, TEST_ACTOR);
  }

  /** Revokes a key the way the operator's CLI does (any owner, audited). */
  async revokeApiKey(id: string): Promise<void> {
    await this.apiKeys().revoke({ any: true }, id, TEST_ACTOR);
  }

  private apiKeys(): ApiKeyRepository {
    const prisma = this.prisma as unknown as PrismaService;
    return new ApiKeyRepository(prisma, new AuditRepository(prisma));
  }
}
