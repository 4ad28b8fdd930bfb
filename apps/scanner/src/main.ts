import 'reflect-metadata';
import { ConfigError, loadConfig } from '@mailwarden/config';
import { createAppLogger } from '@mailwarden/observability';
import { createScanner } from './scanner.app';

async function main(): Promise<void> {
  const config = loadConfig('scanner');
  const logger = createAppLogger('scanner', { level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const app = await createScanner(config, logger);
  await app.listen(config.SCANNER_HTTP_PORT, config.HOST);
  logger.log({ event: 'app.listening', health: `http://${config.HOST}:${config.SCANNER_HTTP_PORT}/health` });
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `scanner: ${error.message}` : error);
  process.exit(1);
});
