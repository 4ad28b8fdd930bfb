import { type DynamicModule, Module } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { CachingDnsResolver, type CachingDnsResolverOptions } from './dns-resolver';
import { SENDER_CHECKS_DNS_RESOLVER, SENDER_CHECKS_OPTIONS } from './sender-checks.constants';
import { SenderChecksService, type SenderChecksServiceOptions } from './sender-checks.service';

export interface SenderChecksModuleOptions extends SenderChecksServiceOptions {
  /** Settings of the process-wide caching resolver (timeouts, TTL bounds, cache size). */
  dns?: CachingDnsResolverOptions;
}

/** Provides {@link SenderChecksService} with one caching DNS resolver per process. */
@Module({})
export class SenderChecksModule {
  static forRoot(options: SenderChecksModuleOptions = {}): DynamicModule {
    const { dns, ...serviceOptions } = options;
    return {
      module: SenderChecksModule,
      global: true,
      providers: [
        {
          provide: CachingDnsResolver,
          useFactory: (registry?: Registry) => new CachingDnsResolver({ registry, ...dns }),
          inject: [{ token: METRICS_REGISTRY, optional: true }],
        },
        { provide: SENDER_CHECKS_DNS_RESOLVER, useFactory: (resolver: CachingDnsResolver) => resolver.resolve, inject: [CachingDnsResolver] },
        { provide: SENDER_CHECKS_OPTIONS, useValue: serviceOptions },
        SenderChecksService,
      ],
      exports: [SenderChecksService, SENDER_CHECKS_DNS_RESOLVER, CachingDnsResolver],
    };
  }
}
