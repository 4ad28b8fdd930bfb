import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';

export const EXPORT_DESTINATION_KINDS = ['HEC', 'WEBHOOK', 'SYSLOG', 'NDJSON'] as const;
export type ExportDestinationKindDto = (typeof EXPORT_DESTINATION_KINDS)[number];

const SETTINGS_DOC =
  'HEC: { url, index?, source?, sourcetype? (default _json), host?, caPem?, verifyTls? }; WEBHOOK: { url, caPem?, verifyTls? }; ' +
  'SYSLOG: { host, port, tls?, caPem?, verifyTls?, serverName?, facility? (default 13), appName?, hostname? }; ' +
  'NDJSON: { folder (written as EXPORT_FILE_DIR/<account or partner id>/<folder>), maxBytes? (default 64 MiB), maxAgeSeconds? (default 3600) }';

/** Fields shared by create and update; all optional on update. */
export class UpdateExportDestinationDto {
  @ApiPropertyOptional({ example: 'Splunk (SOC)' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(120)
  name?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: SETTINGS_DOC })
  @IsOptional()
  @IsObject()
  settings?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    writeOnly: true,
    description: 'Write-only, stored encrypted (SECRETS_KEY). HEC: { token }; WEBHOOK: { secret } (16+ characters, the HMAC key). Omit to keep the stored ones.',
  })
  @IsOptional()
  @IsObject()
  credentials?: Record<string, string>;

  @ApiPropertyOptional({ type: [Number], example: [4009, 2004], description: 'OCSF class_uid values to send (4009 Email Activity, 2004 Detection Finding, 7001 Remediation Activity); empty: all' })
  @IsOptional()
  @ArrayMaxSize(2)
  @IsInt({ each: true })
  classUids?: number[];

  @ApiPropertyOptional({ minimum: 0, maximum: 6, default: 0, description: 'Only events with severity_id at least this (1 Informational … 4 High)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(6)
  minSeverityId?: number;

  @ApiPropertyOptional({ default: false, description: 'Only actionable events: decided action other than deliver, and findings' })
  @IsOptional()
  @IsBoolean()
  actionableOnly?: boolean;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class CreateExportDestinationDto extends UpdateExportDestinationDto {
  @ApiProperty({ example: 'Splunk (SOC)' })
  @IsString()
  @MinLength(1)
  @MaxLength(120)
  declare name: string;

  @ApiProperty({ enum: EXPORT_DESTINATION_KINDS })
  @IsIn(EXPORT_DESTINATION_KINDS)
  kind!: ExportDestinationKindDto;

  @ApiProperty({ type: 'object', additionalProperties: true, description: SETTINGS_DOC })
  @IsObject()
  declare settings: Record<string, unknown>;
}
