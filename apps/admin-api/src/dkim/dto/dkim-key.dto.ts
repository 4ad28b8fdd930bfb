import { ApiProperty } from '@nestjs/swagger';

/** The DNS record to publish for a key. */
export class DkimDnsRecordDto {
  @ApiProperty({ example: 'mw202612._domainkey.contoso.example', description: '<selector>._domainkey.<domain>' })
  name!: string;

  @ApiProperty({ enum: ['TXT'] })
  type!: 'TXT';

  @ApiProperty({
    example: 'v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=',
    description: 'The TXT value. An RSA value is longer than 255 characters: DNS providers split it into several strings of one record, which is fine (RFC 6376 3.6.2.2)',
  })
  value!: string;

  @ApiProperty({
    example: '"v=DKIM1; k=rsa; p=MIIBIjANBgkqh…" "…IDAQAB"',
    description: 'The same value as quoted strings of at most 255 characters each (RFC 1035 3.3.14), for zone files and DNS hosts that want it split',
  })
  zoneFileValue!: string;
}

/** A DKIM signing key of a domain, without its private key (which is never returned). */
export class DkimKeyDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ format: 'uuid' })
  domainId!: string;

  @ApiProperty({ example: 'contoso.example' })
  domain!: string;

  @ApiProperty({ example: 'mw202612' })
  selector!: string;

  @ApiProperty({ enum: ['rsa-sha256', 'ed25519-sha256'] })
  algorithm!: string;

  @ApiProperty({
    enum: ['PENDING_DNS', 'ACTIVE', 'RETIRED'],
    description:
      'PENDING_DNS: publish dnsRecord, then check; ACTIVE: the record was seen as generated, the newest ACTIVE key of the domain signs its outbound mail; RETIRED: signs nothing (the record may be removed)',
  })
  status!: string;

  @ApiProperty({ type: DkimDnsRecordDto })
  dnsRecord!: DkimDnsRecordDto;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastCheckAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  activatedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  retiredAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;
}

export class DkimKeyPageDto {
  @ApiProperty({ type: [DkimKeyDto] })
  items!: DkimKeyDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

/** The outcome of one DNS check of a key's record. */
export class DkimKeyCheckDto {
  @ApiProperty({ type: DkimKeyDto })
  key!: DkimKeyDto;

  @ApiProperty({ description: 'True when every DKIM record at the name publishes exactly this key' })
  matched!: boolean;

  @ApiProperty({ description: 'True when this check moved the key from PENDING_DNS to ACTIVE' })
  activated!: boolean;

  @ApiProperty({ type: [String], description: 'TXT records found at <selector>._domainkey.<domain> (strings of one record joined)' })
  txtRecords!: string[];

  @ApiProperty({ type: String, nullable: true, description: 'DNS failure that prevented a decision (e.g. ETIMEOUT)' })
  dnsError!: string | null;

  @ApiProperty({ description: 'True when the answer came from the resolver cache; repeat with ?bypassCache=true to ask the DNS servers now' })
  fromCache!: boolean;
}
