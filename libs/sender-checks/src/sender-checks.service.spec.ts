import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { CachingDnsResolver } from './dns-resolver';
import { SenderChecksModule } from './sender-checks.module';
import { SenderChecksService } from './sender-checks.service';
import { ZoneDnsResolver } from './zone-resolver';
import { inbound, loadMessage, loadZone } from '../test/sender-checks.fixtures';

describe(SenderChecksService.name, () => {
  it('should run the checks with the injected resolver', async () => {
    const zone = new ZoneDnsResolver(loadZone('sender.dns.json'));
    const service = new SenderChecksService(zone.resolve, { random: () => 0 });
    const report = await service.check(inbound(loadMessage('inbound.eml'), { clientIp: '203.0.113.66' }));
    expect(report).toMatchObject({ firstFailure: 'dmarc', action: 'REJECT' });
    expect(zone.calls).toContain('TXT _dmarc.sender.example');
  });

  it('should be provided by SenderChecksModule with one caching resolver', async () => {
    const app = await NestFactory.createApplicationContext(SenderChecksModule.forRoot({ dns: { timeoutMs: 1000 } }), { logger: false });
    try {
      expect(app.get(SenderChecksService)).toBeInstanceOf(SenderChecksService);
      expect(app.get(CachingDnsResolver)).toBeInstanceOf(CachingDnsResolver);
    } finally {
      await app.close();
    }
  });
});
