import 'reflect-metadata';
import { ConfigError, loadConfig } from '@mailwarden/config';
import { createAppLogger } from '@mailwarden/observability';
import { createJournalIngest } from './journal-ingest.app';

async function main(): Promise<void> {
  const config = loadConfig('journal-ingest');
  const logger = createAppLogger('journal-ingest', { level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const app = await createJournalIngest(config, logger);
  await app.listen(config.JOURNAL_HTTP_PORT, config.HOST);
  logger.log({ event: 'app.listening', health: `http://${config.HOST}:${config.JOURNAL_HTTP_PORT}/health` });
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `journal-ingest: ${error.message}` : error);
  process.exit(1);
});
