import type { OcsfEvent } from '../ocsf/ocsf-mappers';

/** A transport to one SIEM destination. `send` resolves only when the receiver has taken the whole batch. */
export interface ExportSink {
  send(events: readonly OcsfEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** A batch the receiver did not take; the cursor stays and the destination backs off. */
export class ExportSinkError extends Error {
  constructor(
    message: string,
    /** Receiver status when there was one (HTTP status). */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ExportSinkError';
  }
}
