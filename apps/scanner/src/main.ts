import 'reflect-metadata';
import { runApp } from '@mailwarden/observability';
import { createScanner } from './scanner.app';

void runApp('scanner', async (config, logger) => {
  const app = await createScanner(config, logger);
  await app.listen(config.SCANNER_HTTP_PORT, config.HOST);
  logger.log({ event: 'app.listening', health: `http://${config.HOST}:${config.SCANNER_HTTP_PORT}/health` });
});
