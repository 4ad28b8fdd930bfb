import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

export const DKIM_ALGORITHMS = ['rsa-sha256', 'ed25519-sha256'] as const;
export type DkimAlgorithmName = (typeof DKIM_ALGORITHMS)[number];

export class CreateDkimKeyDto {
  @ApiPropertyOptional({
    enum: DKIM_ALGORITHMS,
    default: 'rsa-sha256',
    description: 'rsa-sha256: an RSA-2048 key (RFC 8301), verified everywhere. ed25519-sha256 (RFC 8463): short records, not yet verified by every receiver; publish an RSA key too if in doubt',
  })
  @IsOptional()
  @IsIn(DKIM_ALGORITHMS)
  algorithm?: DkimAlgorithmName;

  @ApiPropertyOptional({
    example: 'mw202612',
    maxLength: 253,
    description: 'RFC 6376 3.1 selector (dot-separated labels of letters, digits and inner hyphens); default mw<yyyymmdd><4 hex>. A selector is used once per domain',
  })
  @IsOptional()
  @IsString()
  @MaxLength(253)
  selector?: string;
}
