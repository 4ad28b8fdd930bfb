import 'reflect-metadata';
import { runApp } from '@mailwarden/observability';
import { createAdminApi } from './admin-api.app';
import { listenOpsEndpoints } from './common/ops-endpoints';

void runApp('admin-api', async (config, logger) => {
  const app = await createAdminApi(config, logger);
  await app.listen(config.ADMIN_API_PORT, config.HOST);
  const ops = config.ADMIN_API_OPS_ACCESS === 'separate' ? await listenOpsEndpoints(app, config.ADMIN_API_OPS_HOST, config.ADMIN_API_OPS_PORT) : null;
  logger.log({ event: 'app.listening', url: `http://${config.HOST}:${config.ADMIN_API_PORT}`, docs: ops ? `${ops}/docs` : '/docs', opsAccess: config.ADMIN_API_OPS_ACCESS });
});
