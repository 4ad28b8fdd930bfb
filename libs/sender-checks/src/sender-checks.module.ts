import { type DynamicModule, Module } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import { CachingDnsResolver, createSystemDnsLookup, parseDnsServers, type CachingDnsResolverOptions, type DnsLookup } from './dns-resolver';
import { SENDER_CHECKS_DNS_RESOLVER, SENDER_CHECKS_OPTIONS } from './sender-checks.constants';
import { SenderChecksService, type SenderChecksServiceOptions } from './sender-checks.service';

export interface SenderChecksModuleOptions extends SenderChecksServiceOptions {
  /** Settings of the process-wide caching resolver (timeouts, TTL bounds, cache size). */
  dns?: CachingDnsResolverOptions;
}

/** The settings of an app that runs sender checks (the scanner, and the journal ingest for its own scans). */
export interface SenderChecksAppSettings {
  SMTP_HOSTNAME: string;
  DNS_TIMEOUT_MS: number;
  /** Comma-separated resolvers (ip or ip:port); empty: the system's. */
  DNS_SERVERS: string;
}

/** Provides {@link SenderChecksService} with one caching DNS resolver per process. */
@Module({})
export class SenderChecksModule {
  /** As an app runs it: its hostname as authserv-id, its DNS settings; `lookup` replaces the upstream DNS (tests answer from a zone). */
  static forApp(settings: SenderChecksAppSettings, lookup?: DnsLookup): DynamicModule {
    return SenderChecksModule.forRoot({
      authservId: settings.SMTP_HOSTNAME,
      dns: {
        timeoutMs: settings.DNS_TIMEOUT_MS,
        lookup: lookup ?? createSystemDnsLookup({ timeoutMs: settings.DNS_TIMEOUT_MS, servers: parseDnsServers(settings.DNS_SERVERS) }),
      },
    });
  }

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
