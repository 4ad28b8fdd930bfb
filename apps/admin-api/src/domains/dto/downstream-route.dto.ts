import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { IsDownstreamHost } from './downstream-host';

/** Where Mailwarden relays accepted mail of a gateway domain (smart host) or mailflow domain (M365 inbound connector). */
export class DownstreamRouteDto {
  @ApiProperty({
    example: 'contoso-example.mail.protection.outlook.com',
    maxLength: 253,
    description:
      'A domain name, or an IP literal: an IPv4 or IPv6 address, bare or in brackets ([2001:db8::25]); stored without brackets. Loopback, unspecified, link-local and multicast addresses (also IPv4-mapped) are refused.',
  })
  @IsDownstreamHost()
  host!: string;

  @ApiProperty({ example: 25, minimum: 1, maximum: 65535 })
  @IsInt()
  @Min(1)
  @Max(65535)
  port!: number;

  @ApiProperty({ description: 'Refuse to relay without STARTTLS' })
  @IsBoolean()
  requireTls!: boolean;

  @ApiProperty({ description: 'Check the downstream certificate' })
  @IsBoolean()
  verifyCert!: boolean;
}
