import { createHmac } from 'node:crypto';
import type { OcsfEvent } from '../ocsf/ocsf-mappers';
import { ExportSinkError, type ExportSink } from './export-sink';
import { httpPost } from './http-post';

export interface HecSettings {
  /** Base URL of the collector (`https://splunk.example:8088`) or the full `/services/collector/event` URL. */
  url: string;
  index?: string;
  source?: string;
  sourcetype?: string;
  host?: string;
  caPem?: string;
  verifyTls?: boolean;
  timeoutMs?: number;
}

export const HEC_PATH = '/services/collector/event';

/** The collector URL for a configured base (a URL already ending in the event path is kept). */
export function hecEndpoint(base: string): URL {
  const url = new URL(base);
  if (!url.pathname.endsWith(HEC_PATH)) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${HEC_PATH}`;
  }
  return url;
}

/**
 * Splunk HTTP Event Collector (also Sentinel's and Elastic's HEC-compatible inputs): one POST per batch, the events as
 * concatenated JSON objects (`{"time","host","source","sourcetype","index","event"}`, WIRE.md §4), `Authorization:
 * Splunk <token>`. Only 200 with `code: 0` is success; 400 (invalid-event-number), 401/403 (token), 503 (busy) and
 * every other answer fail the batch, which is sent again whole after the back-off.
 */
export class HecSink implements ExportSink {
  private readonly endpoint: URL;

  constructor(
    private readonly settings: HecSettings,
    private readonly token: string,
  ) {
    this.endpoint = hecEndpoint(settings.url);
  }

  async send(events: readonly OcsfEvent[]): Promise<void> {
    const body = events
      .map((event) =>
        JSON.stringify({
          time: (event.time as number) / 1000,
          host: this.settings.host ?? 'mailwarden',
          source: this.settings.source ?? 'mailwarden',
          sourcetype: this.settings.sourcetype ?? '_json',
          ...(this.settings.index ? { index: this.settings.index } : {}),
          event,
        }),
      )
      .join('\n');
    const reply = await httpPost(this.endpoint, Buffer.from(body, 'utf8'), {
      headers: { authorization: `Splunk ${this.token}`, 'content-type': 'application/json' },
      timeoutMs: this.settings.timeoutMs ?? 30_000,
      caPem: this.settings.caPem,
      verifyTls: this.settings.verifyTls,
    });
    let answer: { code?: number; text?: string } = {};
    try {
      answer = JSON.parse(reply.text) as typeof answer;
    } catch {
      // A proxy's html error page: the status says enough.
    }
    if (reply.status !== 200 || (answer.code !== undefined && answer.code !== 0)) {
      throw new ExportSinkError(`HEC answered ${reply.status}${answer.code !== undefined ? ` code ${answer.code}` : ''}: ${answer.text ?? reply.text.slice(0, 200)}`, reply.status);
    }
  }

  async close(): Promise<void> {}
}

export interface WebhookSettings {
  url: string;
  caPem?: string;
  verifyTls?: boolean;
  timeoutMs?: number;
}

export const WEBHOOK_SIGNATURE_HEADER = 'x-mailwarden-signature';
export const WEBHOOK_TIMESTAMP_HEADER = 'x-mailwarden-timestamp';

/** `sha256=<hex>` over `<timestamp>.<body>` with the destination's secret (the receiver recomputes it). */
export function webhookSignature(secret: string, timestamp: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/**
 * A plain JSON webhook: one POST per batch with a JSON array of events, signed with HMAC-SHA256 over the timestamp
 * and the body (headers `X-Mailwarden-Timestamp`, `X-Mailwarden-Signature: sha256=…`), so a receiver can refuse
 * forged and replayed posts. Any 2xx is success.
 */
export class WebhookSink implements ExportSink {
  private readonly url: URL;

  constructor(
    private readonly settings: WebhookSettings,
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {
    this.url = new URL(settings.url);
  }

  async send(events: readonly OcsfEvent[]): Promise<void> {
    const body = Buffer.from(JSON.stringify(events), 'utf8');
    const timestamp = String(Math.floor(this.now() / 1000));
    const reply = await httpPost(this.url, body, {
      headers: {
        'content-type': 'application/json',
        [WEBHOOK_TIMESTAMP_HEADER]: timestamp,
        [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(this.secret, timestamp, body),
      },
      timeoutMs: this.settings.timeoutMs ?? 30_000,
      caPem: this.settings.caPem,
      verifyTls: this.settings.verifyTls,
    });
    if (reply.status < 200 || reply.status > 299) {
      throw new ExportSinkError(`webhook answered ${reply.status}: ${reply.text.slice(0, 200)}`, reply.status);
    }
  }

  async close(): Promise<void> {}
}
