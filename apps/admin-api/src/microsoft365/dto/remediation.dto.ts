import { ApiProperty } from '@nestjs/swagger';
import { RemediationItemDto } from './remediation-item.dto';

export class RemediationDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['MOVE_TO_JUNK', 'MOVE_TO_DELETED_ITEMS', 'SOFT_DELETE', 'HARD_DELETE', 'RESTORE_TO_INBOX'] })
  action!: string;

  @ApiProperty({ enum: ['QUEUED', 'IN_PROGRESS', 'COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED'] })
  status!: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The remediation this one restores' })
  restoreOf!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, description: '`{ messageIds, recipients? }` or `{ search }` or `{ restoreOf }`' })
  criteria!: Record<string, unknown>;

  @ApiProperty()
  requestedBy!: string;

  @ApiProperty({ description: 'Mailboxes per item status', type: 'object', additionalProperties: { type: 'integer' } })
  counts!: Record<string, number>;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt!: string | null;

  @ApiProperty({ type: [RemediationItemDto], description: 'Per mailbox (omitted in lists)', required: false })
  items?: RemediationItemDto[];
}
