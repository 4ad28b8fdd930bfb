import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsFQDN, IsInt, Max, MaxLength, Min } from 'class-validator';

/** Where Mailwarden relays accepted mail of a gateway domain (smart host) or mailflow domain (M365 inbound connector). */
export class DownstreamRouteDto {
  @ApiProperty({ example: 'contoso-example.mail.protection.outlook.com' })
  @IsFQDN({ require_tld: true })
  @MaxLength(253)
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
