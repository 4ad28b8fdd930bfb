import 'reflect-metadata';
import { ConfigError, loadConfig } from '@mailwarden/config';
import { createAppLogger } from '@mailwarden/observability';
import { createAdminApi } from './admin-api.app';

async function main(): Promise<void> {
  const config = loadConfig('admin-api');
  const logger = createAppLogger('admin-api', { level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const app = await createAdminApi(config, logger);
  await app.listen(config.ADMIN_API_PORT, config.HOST);
  logger.log({ event: 'app.listening', url: `http://${config.HOST}:${config.ADMIN_API_PORT}`, docs: '/docs' });
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `admin-api: ${error.message}` : error);
  process.exit(1);
});
