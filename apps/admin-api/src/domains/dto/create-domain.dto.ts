import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsFQDN, IsIn, IsOptional, MaxLength } from 'class-validator';

export const DOMAIN_MODES = ['JOURNAL', 'GATEWAY', 'MAILFLOW'] as const;

export class CreateDomainDto {
  @ApiProperty({ example: 'contoso.example', maxLength: 253 })
  @IsFQDN({ require_tld: true, allow_trailing_dot: true })
  @MaxLength(253)
  name!: string;

  @ApiPropertyOptional({ enum: DOMAIN_MODES, default: 'JOURNAL', description: 'JOURNAL is the only mode allowed while the account is monitor-only' })
  @IsOptional()
  @IsIn(DOMAIN_MODES)
  mode?: (typeof DOMAIN_MODES)[number];
}
