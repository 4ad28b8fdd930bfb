import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HecEnvelope {
  time: number;
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
  event: Record<string, unknown>;
}

export type HecMode = 'ok' | 'busy' | 'invalid-token' | 'down';

export interface HecReceiver {
  url: string;
  token: string;
  /** Every envelope accepted (200), in arrival order. */
  accepted: HecEnvelope[];
  /** Status of every request answered, in order. */
  statuses: number[];
  /** ok: 200; busy: 503 (server busy); invalid-token: 403 code 4 whatever the token; down: connections are reset. */
  mode: HecMode;
  /** Runs after a batch was accepted and before the 200 goes out (a test can crash the sender there). */
  beforeReply?: () => Promise<void>;
  close(): Promise<void>;
}

/** Splunk's HEC answers (WIRE.md §4). */
const REPLIES = {
  success: [200, { text: 'Success', code: 0 }],
  tokenRequired: [401, { text: 'Token is required', code: 2 }],
  invalidAuthorization: [401, { text: 'Invalid authorization', code: 3 }],
  invalidToken: [403, { text: 'Invalid token', code: 4 }],
  noData: [400, { text: 'No data', code: 5 }],
  invalidEventNumber: (index: number) => [400, { text: 'Invalid data format', code: 6, 'invalid-event-number': index }] as const,
  busy: [503, { text: 'Server is busy', code: 9 }],
} as const;

/** Splits concatenated JSON objects (HEC's batch body) into values; throws at the first broken one with its index. */
function splitConcatenated(body: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let index = 0; index < body.length; index++) {
    const char = body[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === '{') {
      if (depth++ === 0) start = index;
    } else if (char === '}') {
      if (--depth === 0) {
        values.push(JSON.parse(body.slice(start, index + 1)));
      }
    } else if (depth === 0 && !/\s/.test(char!)) {
      throw Object.assign(new Error('garbage between events'), { eventNumber: values.length });
    }
  }
  if (depth !== 0) {
    throw Object.assign(new Error('truncated event'), { eventNumber: values.length });
  }
  return values;
}

/**
 * A local HTTP Event Collector: checks `Authorization: Splunk <token>`, parses the concatenated event objects, and
 * answers with Splunk's status codes and bodies: 200 code 0, 401 code 2/3, 403 code 4, 400 with invalid-event-number,
 * 503 when busy. Switch `mode` to make it busy or refuse the token; `close()` to take it down.
 */
export async function startHecReceiver(token = 'hec-token-1234'): Promise<HecReceiver> {
  const receiver: Omit<HecReceiver, 'url' | 'close'> = { token, accepted: [], statuses: [], mode: 'ok' as HecMode };
  const reply = (response: ServerResponse, [status, body]: readonly [number, object]) => {
    receiver.statuses.push(status);
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const server: Server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (receiver.mode === 'down') {
        request.socket.destroy();
        return;
      }
      if (request.method !== 'POST' || request.url !== '/services/collector/event') {
        receiver.statuses.push(404);
        response.writeHead(404).end();
        return;
      }
      if (receiver.mode === 'busy') return reply(response, REPLIES.busy);
      const authorization = request.headers.authorization;
      if (!authorization) return reply(response, REPLIES.tokenRequired);
      if (!/^Splunk \S+$/.test(authorization)) return reply(response, REPLIES.invalidAuthorization);
      if (receiver.mode === 'invalid-token' || authorization !== `Splunk ${receiver.token}`) return reply(response, REPLIES.invalidToken);
      const body = Buffer.concat(chunks).toString('utf8');
      if (body.trim() === '') return reply(response, REPLIES.noData);
      let envelopes: unknown[];
      try {
        envelopes = splitConcatenated(body);
      } catch (error) {
        return reply(response, REPLIES.invalidEventNumber((error as { eventNumber: number }).eventNumber));
      }
      const broken = envelopes.findIndex((envelope) => !envelope || typeof (envelope as HecEnvelope).event !== 'object' || typeof (envelope as HecEnvelope).time !== 'number');
      if (broken >= 0) return reply(response, REPLIES.invalidEventNumber(broken));
      receiver.accepted.push(...(envelopes as HecEnvelope[]));
      void (receiver.beforeReply?.() ?? Promise.resolve()).then(() => reply(response, REPLIES.success));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as HecReceiver;
}
