import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';
import { MAX_JOURNAL_SOURCE_RANGES } from '@mailwarden/accounts';

/** PATCH of the account's journal ingest settings; absent fields are left as they are. */
export class UpdateJournalSettingsDto {
  @ApiPropertyOptional({
    type: [String],
    example: ['40.92.0.0/15', '2a01:111:f400::/48'],
    description: 'IP addresses or CIDR ranges allowed to send journal copies (the provider\'s outbound ranges); empty: any',
    maxItems: MAX_JOURNAL_SOURCE_RANGES,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_JOURNAL_SOURCE_RANGES)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  allowedSourceIps?: string[];

  @ApiPropertyOptional({ description: 'Accept journal copies only over STARTTLS' })
  @IsOptional()
  @IsBoolean()
  requireTls?: boolean;
}
