import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsFQDN, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { IsIpRange } from '../../common/ip-range.validator';

export class SetMailflowConnectorDto {
  @ApiProperty({
    type: [String],
    example: ['40.92.0.0/15', '52.100.0.0/14', '2a01:111:f400::/48'],
    description: 'CIDR ranges (or single addresses) the Microsoft 365 outbound connector sends from; at most 100, none wider than /8 (IPv4) or /16 (IPv6)',
  })
  @IsArray()
  @ArrayMaxSize(100)
  @IsIpRange({ each: true })
  sourceIps!: string[];

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'mail.protection.outlook.com',
    description: 'Subject CN or DNS SAN the connector presents as its TLS client certificate (verified chain); a leading "*." label is allowed',
  })
  @IsOptional()
  @ValidateIf((_object, value) => value !== null)
  @IsString()
  @MaxLength(253)
  @IsFQDN({ require_tld: true, allow_wildcard: true, allow_trailing_dot: true })
  tlsCertName?: string | null;
}
