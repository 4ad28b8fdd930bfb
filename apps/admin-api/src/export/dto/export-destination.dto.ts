import { ApiProperty } from '@nestjs/swagger';
import { EXPORT_DESTINATION_KINDS, type ExportDestinationKindDto } from './write-export-destination.dto';

export class ExportDestinationStatusDto {
  @ApiProperty({ description: 'Outbox events of this owner the destination has not passed yet' })
  lagEvents!: number;

  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'When the oldest of them was written' })
  oldestPendingAt!: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  lastSuccessAt!: string | null;

  @ApiProperty({ type: String, nullable: true })
  lastError!: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  lastErrorAt!: string | null;

  @ApiProperty()
  consecutiveFailures!: number;

  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'Back-off: no attempt before this time' })
  nextAttemptAt!: string | null;

  @ApiProperty()
  eventsSent!: number;

  @ApiProperty({ description: 'Events left out by the filters' })
  eventsFiltered!: number;

  @ApiProperty()
  batchesSent!: number;
}

export class ExportDestinationDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: EXPORT_DESTINATION_KINDS })
  kind!: ExportDestinationKindDto;

  @ApiProperty({ enum: ['account', 'partner'], description: "partner: every account of the partner (MSSP)" })
  scope!: 'account' | 'partner';

  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  accountId!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Transport settings (no secrets)' })
  settings!: Record<string, unknown>;

  @ApiProperty({ description: 'Credentials are stored (they are never returned)' })
  hasCredentials!: boolean;

  @ApiProperty({ type: [Number] })
  classUids!: number[];

  @ApiProperty()
  minSeverityId!: number;

  @ApiProperty()
  actionableOnly!: boolean;

  @ApiProperty()
  enabled!: boolean;

  @ApiProperty({ type: ExportDestinationStatusDto })
  status!: ExportDestinationStatusDto;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

export class ExportDestinationListDto {
  @ApiProperty({ type: [ExportDestinationDto] })
  items!: ExportDestinationDto[];
}

export class ExportTestResultDto {
  @ApiProperty()
  ok!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'Why the receiver did not take the test event' })
  error!: string | null;

  @ApiProperty({ description: 'metadata.uid of the test event (look for it in the SIEM)' })
  eventUid!: string;
}
