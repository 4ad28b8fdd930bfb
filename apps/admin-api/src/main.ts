import 'reflect-metadata';
import { ConfigError, loadConfig } from '@mailwarden/config';
import { createAppLogger } from '@mailwarden/observability';
import { createAdminApi } from './admin-api.app';
import { listenOpsEndpoints } from './common/ops-endpoints';

async function main(): Promise<void> {
  const config = loadConfig('admin-api');
  const logger = createAppLogger('admin-api', { level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const app = await createAdminApi(config, logger);
  await app.listen(config.ADMIN_API_PORT, config.HOST);
  const ops = config.ADMIN_API_OPS_ACCESS === 'separate' ? await listenOpsEndpoints(app, config.ADMIN_API_OPS_HOST, config.ADMIN_API_OPS_PORT) : null;
  logger.log({ event: 'app.listening', url: `http://${config.HOST}:${config.ADMIN_API_PORT}`, docs: ops ? `${ops}/docs` : '/docs', opsAccess: config.ADMIN_API_OPS_ACCESS });
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `admin-api: ${error.message}` : error);
  process.exit(1);
});
