import { ApiProperty } from '@nestjs/swagger';
import { RetentionSettingsDto } from './policy-settings.schema';

/** The windows the retention purge applies to the account (issue 20), in days. */
export class EffectiveRetentionDto {
  @ApiProperty({ description: 'Message history and verdicts' })
  historyDays!: number;

  @ApiProperty({ description: 'Quarantine items expire (deleted, audited as expired) this long after they were made' })
  quarantineDays!: number;

  @ApiProperty({ description: "The account's admin audit log" })
  auditLogDays!: number;

  @ApiProperty({ description: 'Raw message bytes (with their message rows): the longest of the emergency inbox, quarantine and history' })
  rawMessageDays!: number;

  @ApiProperty({ description: 'The emergency inbox window (EMERGENCY_INBOX_DAYS)' })
  emergencyInboxDays!: number;

  @ApiProperty({ type: RetentionSettingsDto, description: "The partner's ceiling (the platform maximum where the partner set none)" })
  ceiling!: RetentionSettingsDto;
}
