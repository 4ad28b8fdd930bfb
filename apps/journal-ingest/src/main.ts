import 'reflect-metadata';
import { runApp } from '@mailwarden/observability';
import { createJournalIngest } from './journal-ingest.app';

void runApp('journal-ingest', async (config, logger) => {
  const app = await createJournalIngest(config, logger);
  await app.listen(config.JOURNAL_HTTP_PORT, config.HOST);
  logger.log({ event: 'app.listening', health: `http://${config.HOST}:${config.JOURNAL_HTTP_PORT}/health` });
});
