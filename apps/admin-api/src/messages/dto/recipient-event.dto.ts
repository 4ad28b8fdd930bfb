import { ApiProperty } from '@nestjs/swagger';

export const RECIPIENT_EVENT_TYPES = ['ACCEPTED', 'SCANNED', 'QUARANTINED', 'DELIVERED', 'DEFERRED', 'FAILED', 'RELEASED', 'DELETED'] as const;

/** One step in the life of a recipient's copy. */
export class RecipientEventDto {
  @ApiProperty({ enum: RECIPIENT_EVENT_TYPES, description: 'DELIVERED, DEFERRED and FAILED are delivery attempts (detail.attempted) or their outcome without one (no downstream, retry window over)' })
  type!: (typeof RECIPIENT_EVENT_TYPES)[number];

  @ApiProperty({ type: String, format: 'date-time' })
  at!: string;

  @ApiProperty({ enum: ['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT'], nullable: true, description: 'SCANNED: the decided action' })
  action!: string | null;

  @ApiProperty({ type: String, nullable: true, description: "The downstream's SMTP reply, or the reason of a deferral or failure", example: '451 4.3.0 try again later' })
  reply!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'attempted, attempt, downstream; appliedAction, enforced, failedCheck; actor, quarantineItemId' })
  detail!: object;
}
