import { type INestApplication, type LoggerService, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AdminApiConfig } from '@mailwarden/config';
import type { AdminApiOverrides } from './admin-api.options';
import { AppModule } from './app.module';
import { ApiProblem, ProblemCode } from './common/problem-code';
import { fieldErrors } from './common/validation-errors';

/** Builds the admin API (not yet listening), so tests run exactly what main.ts runs. */
export async function createAdminApi(config: AdminApiConfig, logger: LoggerService | false, overrides: AdminApiOverrides = {}): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(config, overrides), { logger, bufferLogs: false });
  app.useGlobalPipes(
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
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Mailwarden admin API')
      .setDescription('Tenants, domains and modes, policies, message history, quarantine, keys and audit.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key: mw_<prefix>_<secret>' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}
