import { ApiProperty } from '@nestjs/swagger';
import { QuarantineMessageDto } from './quarantine-message.dto';
import { QuarantineReasonDto } from './quarantine-reason.dto';

/** HELD, RELEASED, DELETED for enforced items; a monitor-only item was never held: WOULD_HAVE_BEEN_QUARANTINED. */
export const QUARANTINE_ITEM_STATUSES = ['HELD', 'RELEASED', 'DELETED', 'WOULD_HAVE_BEEN_QUARANTINED'] as const;
export type QuarantineItemStatus = (typeof QUARANTINE_ITEM_STATUSES)[number];

export class QuarantineItemDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  messageId!: string;

  @ApiProperty()
  recipient!: string;

  @ApiProperty({ example: 'dkim: signature failed verification', description: 'The first (deciding) reason; every reason is in reasons' })
  reason!: string;

  @ApiProperty({ type: [QuarantineReasonDto], description: 'Every reason of the decision, most severe first' })
  reasons!: QuarantineReasonDto[];

  @ApiProperty({ enum: QUARANTINE_ITEM_STATUSES, description: 'WOULD_HAVE_BEEN_QUARANTINED: recorded in monitor-only, nothing was held' })
  status!: QuarantineItemStatus;

  @ApiProperty({ example: 'would have been quarantined', description: 'What to show: held, released, deleted, or would have been quarantined' })
  label!: string;

  @ApiProperty({ description: 'False in monitor-only: nothing was held, so there is nothing to release' })
  enforced!: boolean;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  releasedAt!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    description: "When the retention run expires a HELD item (DELETED, audited as quarantine.expired): its own expiry, or the tenant's retention quarantineDays after createdAt if sooner",
  })
  expiresAt!: string;

  @ApiProperty({ type: QuarantineMessageDto })
  message!: QuarantineMessageDto;
}
