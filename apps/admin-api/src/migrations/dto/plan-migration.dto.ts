import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsFQDN, IsIn, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';

export const MIGRATION_KINDS = ['ADVANCED_TO_MONITOR_ONLY', 'MONITOR_ONLY_TO_ADVANCED', 'GATEWAY_TO_MAILFLOW', 'MAILFLOW_TO_GATEWAY'] as const;

export class PlanMigrationDto {
  @ApiProperty({ enum: MIGRATION_KINDS })
  @IsIn(MIGRATION_KINDS)
  kind!: (typeof MIGRATION_KINDS)[number];

  @ApiPropertyOptional({ enum: ['GATEWAY', 'MAILFLOW'], description: 'MONITOR_ONLY_TO_ADVANCED: the mode the domains move to' })
  @IsOptional()
  @IsIn(['GATEWAY', 'MAILFLOW'])
  targetMode?: 'GATEWAY' | 'MAILFLOW';

  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Domains to move; default: every domain the migration applies to' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  domainIds?: string[];

  @ApiPropertyOptional({
    example: 'mx.mailwarden.example',
    description: "Mailwarden's MX host; needed when a gateway domain is involved (MX checks). Default: the one the account's last plan named",
  })
  @IsOptional()
  @IsFQDN({ require_tld: true, allow_trailing_dot: true })
  gatewayMxHost?: string;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 604800,
    default: 600,
    description: 'How long the old path (journal copies, MX gateway or connector) must stay quiet before the wait steps pass; a wait can also be skipped with acknowledgeRisk',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(604800)
  quietPeriodSeconds?: number;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'Into Mailflow with Exchange Online managed by Mailwarden (Microsoft 365 connected): route only the members of this group synced from Microsoft 365 through Mailwarden; default: every recipient of the domains',
  })
  @IsOptional()
  @IsUUID('all')
  mailflowGroupId?: string;
}
