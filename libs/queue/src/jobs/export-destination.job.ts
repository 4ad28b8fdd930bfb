import { defineJob } from '../job-definition';
import { QueueName } from '../queue-name';

/** Payload of a QueueName.Export job: one run of one SIEM export destination. Ids only. */
export interface ExportDestinationJobData {
  destinationId: string;
}

/**
 * One run of a destination; scheduled only (one job scheduler per destination). A failed run is not retried in
 * place: the destination's back-off and the next scheduled run take over.
 */
export const ExportDestinationJob = defineJob<ExportDestinationJobData>({
  queue: QueueName.Export,
  name: 'export-destination',
  options: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 50 } },
});

/** One BullMQ job scheduler per destination, so each has at most one pending run. */
export function exportSchedulerId(destinationId: string): string {
  return `export:${destinationId}`;
}
