import { Global, Inject, Module, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { MimecastPollScheduler } from '@mailwarden/mimecast';
import { redisOptionsFromUrl } from '@mailwarden/queue';

/**
 * Provides the MimecastPollScheduler that MimecastService optionally injects, so configuring a connection through
 * the API (re)schedules its poll on QueueName.MimecastPoll. Global because MimecastService resolves it from its own
 * module, which the app cannot add providers to.
 */
@Global()
@Module({
  providers: [
    {
      provide: MimecastPollScheduler,
      inject: [APP_CONFIG],
      useFactory: (config: AdminApiConfig) =>
        new MimecastPollScheduler({ connection: redisOptionsFromUrl(config.REDIS_URL) as never, prefix: config.REDIS_PREFIX }),
    },
  ],
  exports: [MimecastPollScheduler],
})
export class MimecastSchedulerModule implements OnModuleDestroy {
  constructor(@Inject(MimecastPollScheduler) private readonly scheduler: MimecastPollScheduler) {}

  async onModuleDestroy(): Promise<void> {
    await this.scheduler.close();
  }
}
