import { Inject, Injectable, Optional } from '@nestjs/common';
import { checkSender } from './check-sender';
import type { DnsResolveFunction } from './dns-resolver';
import { SENDER_CHECKS_DNS_RESOLVER, SENDER_CHECKS_OPTIONS } from './sender-checks.constants';
import type { SenderCheckInput, SenderCheckOptions, SenderCheckReport } from './sender-checks.types';

export type SenderChecksServiceOptions = Omit<SenderCheckOptions, 'resolver'>;

/**
 * Nest face of {@link checkSender}: the inbound sender checks with the injected (caching) DNS resolver.
 * A DNS temperror is a result (`report.temporaryError`), not an exception: the scan worker retries the
 * job, the SMTP front answers 451 when `report.temporaryErrorMayReject`.
 */
@Injectable()
export class SenderChecksService {
  constructor(
    @Inject(SENDER_CHECKS_DNS_RESOLVER) private readonly resolver: DnsResolveFunction,
    @Optional() @Inject(SENDER_CHECKS_OPTIONS) private readonly options: SenderChecksServiceOptions = {},
  ) {}

  check(input: SenderCheckInput): Promise<SenderCheckReport> {
    return checkSender(input, { ...this.options, resolver: this.resolver });
  }
}
