import path from 'node:path';
import type { ExportDestination } from '@mailwarden/db';
import { CredentialsCipher } from '@mailwarden/mimecast';
import type { DestinationCredentials } from './destination-settings';
import type { ExportSink } from './sinks/export-sink';
import { HecSink, WebhookSink, type HecSettings, type WebhookSettings } from './sinks/http.sinks';
import { NdjsonSink, type NdjsonSettings } from './sinks/ndjson.sink';
import { SyslogSink, type SyslogSettings } from './sinks/syslog.sink';

/**
 * Builds the sink of a destination, decrypting its credentials (AES-256-GCM with SECRETS_KEY, the destination id as
 * additional data: the Mimecast credentials' cipher). Sinks are kept per destination and rebuilt when its kind,
 * settings or credentials change, so an NDJSON sink keeps its current file between runs.
 */
export class ExportSinkFactory {
  private readonly cipher: CredentialsCipher;
  private readonly sinks = new Map<string, { config: string; sink: ExportSink }>();

  constructor(
    secretsKey: string,
    private readonly exportRoot: string,
  ) {
    this.cipher = new CredentialsCipher(secretsKey);
  }

  encrypt(destinationId: string, credentials: DestinationCredentials): string {
    return this.cipher.encrypt(credentials, destinationId);
  }

  sinkFor = (destination: ExportDestination): ExportSink => {
    // Keyed by what the sink is built from, not updatedAt: counters and cursor change with every batch.
    const config = JSON.stringify([destination.kind, destination.settings, destination.encryptedCredentials]);
    const cached = this.sinks.get(destination.id);
    if (cached && cached.config === config) {
      return cached.sink;
    }
    const sink = this.build(destination);
    this.sinks.set(destination.id, { config, sink });
    return sink;
  };

  /** A sink for one use (the "send test event" action), not cached. */
  build(destination: Pick<ExportDestination, 'id' | 'kind' | 'settings' | 'encryptedCredentials' | 'accountId' | 'partnerId'>): ExportSink {
    const credentials = destination.encryptedCredentials ? this.cipher.decrypt<DestinationCredentials>(destination.encryptedCredentials, destination.id) : {};
    switch (destination.kind) {
      case 'HEC':
        return new HecSink(destination.settings as unknown as HecSettings, credentials.token ?? '');
      case 'WEBHOOK':
        return new WebhookSink(destination.settings as unknown as WebhookSettings, credentials.secret ?? '');
      case 'SYSLOG':
        return new SyslogSink(destination.settings as unknown as SyslogSettings);
      case 'NDJSON':
        // Each owner writes under a folder named by its id: one tenant cannot choose another tenant's folder.
        return new NdjsonSink(path.join(this.exportRoot, (destination.accountId ?? destination.partnerId)!), destination.settings as unknown as NdjsonSettings);
    }
  }
}
