import { createTransport } from 'nodemailer';

/** One message a sender of {@link sendFromParallelConnections} sends: its Message-ID (the key of the replies), envelope and bytes. */
export interface ParallelMessage {
  messageId: string;
  envelope: { from: string; to: string[] };
  raw: Buffer;
}

/**
 * `connections` SMTP clients at once, each on its own connection to 127.0.0.1:`port`, sending `perConnection`
 * messages one after another (`message(connection, index)`); returns each message's final reply by Message-ID (the
 * server's text for a refusal or a lost connection, never a throw). Many connections at once are what spreads a load
 * over the processes sharing a port (SO_REUSEPORT hands out connections, not messages).
 */
export async function sendFromParallelConnections(
  port: number,
  connections: number,
  perConnection: number,
  message: (connection: number, index: number) => ParallelMessage,
  options: { clientName?: string } = {},
): Promise<Map<string, string>> {
  const replies = new Map<string, string>();
  await Promise.all(
    Array.from({ length: connections }, async (_, connection) => {
      const transport = createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, ...(options.clientName ? { name: options.clientName } : {}) });
      try {
        for (let index = 0; index < perConnection; index++) {
          const { messageId, envelope, raw } = message(connection, index);
          try {
            const info = await transport.sendMail({ envelope, raw });
            replies.set(messageId, info.response);
          } catch (error) {
            replies.set(messageId, String((error as { response?: string }).response ?? error));
          }
        }
      } finally {
        transport.close();
      }
    }),
  );
  return replies;
}
