import { ApiProperty } from '@nestjs/swagger';
import { DomainDto } from './domain.dto';

/** The outcome of one verification attempt, with what DNS answered. */
export class DomainVerificationDto {
  @ApiProperty({ type: DomainDto })
  domain!: DomainDto;

  @ApiProperty({ description: 'True when the expected TXT record was found' })
  verified!: boolean;

  @ApiProperty({ type: [String], description: 'TXT records found at the domain' })
  txtRecords!: string[];

  @ApiProperty({ type: String, nullable: true, description: 'DNS failure that prevented a decision (e.g. ETIMEOUT); status unchanged then' })
  dnsError!: string | null;

  @ApiProperty({ description: 'True when the TXT answer (or "no such record") came from the resolver cache rather than the DNS servers; repeat with ?bypassCache=true to ask them now' })
  fromCache!: boolean;
}
