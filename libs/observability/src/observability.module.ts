import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { HEALTH_INDICATORS, METRICS_REGISTRY } from './observability.constants';
import { ObservabilityController } from './observability.controller';

export interface ObservabilityOptions {
  registry: Registry;
  /** Providers (classes or tokens) that implement HealthIndicator. */
  indicators: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
}

/**
 * `/health` and `/metrics`. Global, so that the libs record their figures in the app's registry: a provider injects
 * `@Optional() @Inject(METRICS_REGISTRY)` (optional: a lib's own tests may build it without this module).
 */
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    const indicators: Provider = {
      provide: HEALTH_INDICATORS,
      useFactory: (...resolved: unknown[]) => resolved,
      inject: options.indicators,
    };
    return {
      module: ObservabilityModule,
      global: true,
      controllers: [ObservabilityController],
      providers: [indicators, { provide: METRICS_REGISTRY, useValue: options.registry }],
      exports: [METRICS_REGISTRY],
    };
  }
}
