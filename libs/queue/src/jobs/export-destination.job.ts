/** Payload of a QueueName.Export job: one run of one SIEM export destination. Ids only. */
export interface ExportDestinationJobData {
  destinationId: string;
}

export const EXPORT_DESTINATION_JOB = 'export-destination';

/** One BullMQ job scheduler per destination, so each has at most one pending run. */
export function exportSchedulerId(destinationId: string): string {
  return `export:${destinationId}`;
}
