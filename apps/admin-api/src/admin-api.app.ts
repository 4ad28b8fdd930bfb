import { type INestApplication, type LoggerService, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import type { AdminApiConfig } from '@mailwarden/config';
import { httpMetricsMiddleware, METRICS_REGISTRY } from '@mailwarden/observability';
import type { AdminApiOverrides } from './admin-api.options';
import { AppModule } from './app.module';
import { serveConsole } from './common/console-static';
import { cursorSigningKeyOf, setCursorSigningKey } from './common/cursor';
import { bodyParserErrors, refuseDeepJson } from './common/json-body';
import { NoNulCharactersPipe } from './common/no-nul-characters.pipe';
import { opsEndpointsGuard, type OpsAccess } from './common/ops-endpoints';
import { ApiProblem, ProblemCode } from './common/problem-code';
import { fieldErrors } from './common/validation-errors';

/** Builds the admin API (not yet listening), so tests run exactly what main.ts runs. */
export async function createAdminApi(config: AdminApiConfig, logger: LoggerService | false, overrides: AdminApiOverrides = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, overrides), { logger, bufferLogs: false, bodyParser: false });
  // helmet's defaults (a maintained list rather than hand-written headers): CSP (Swagger UI loads only its own
  // scripts), HSTS, nosniff, frame and referrer policies, cross-origin isolation headers, and no X-Powered-By.
  app.disable('x-powered-by');
  // First, so that requests refused by what follows (ops guard, body parser) are counted too.
  app.use(httpMetricsMiddleware(app.get(METRICS_REGISTRY)));
  app.use(helmet());
  // Every /v1 answer is one tenant's data, some carry a plaintext key or a raw message: no cache may keep any.
  app.use('/v1', (_request: unknown, response: { setHeader(name: string, value: string): void }, next: () => void) => {
    response.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(opsEndpointsGuard(app, config.ADMIN_API_OPS_ACCESS as OpsAccess));
  // The web console (apps/console, issue 18): static files with their own CSP and cache rules.
  serveConsole(app);
  // JSON only (as before: body-parser's defaults, 100 kB), refusing deep nesting before it is parsed; the parser's
  // refusals answer problem+json.
  app.useBodyParser('json', { verify: refuseDeepJson });
  app.use(bodyParserErrors);
  // The client address (per-address limits) comes from X-Forwarded-For only behind a proxy the operator trusts.
  app.set('trust proxy', config.TRUST_PROXY);
  const cursorKey = cursorSigningKeyOf(config);
  if (cursorKey) {
    setCursorSigningKey(cursorKey);
  }
  app.useGlobalPipes(
    new NoNulCharactersPipe(),
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // errors[].field is the value's real path (issue 13), not the first word of class-validator's message.
      exceptionFactory: (errors) => {
        const fields = fieldErrors(errors);
        return new ApiProblem(400, ProblemCode.ValidationFailed, fields.map((error) => error.message).join('; '), fields);
      },
    }),
  );
  app.enableShutdownHooks();
  const document = createOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

/** The OpenAPI document of `app` (served at /docs-json; written to a file by openapi-export for the console's types). */
export function createOpenApiDocument(app: INestApplication) {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Mailwarden admin API')
      .setDescription('Tenants, domains and modes, policies, message history, quarantine, keys and audit.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key: mw_<prefix>_<secret>' })
      .addCookieAuth('mw_session', { type: 'apiKey', in: 'cookie', description: 'A person\'s session (POST /v1/auth/login); unsafe methods also need X-CSRF-Token' }, 'session')
      .build(),
  );
}
