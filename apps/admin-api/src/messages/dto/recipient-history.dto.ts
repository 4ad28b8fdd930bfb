import { ApiProperty } from '@nestjs/swagger';
import { RecipientEventDto } from './recipient-event.dto';

/** One recipient of a message: where its copy stands and how it got there. */
export class RecipientHistoryDto {
  @ApiProperty()
  recipient!: string;

  @ApiProperty({
    enum: ['NOT_APPLICABLE', 'QUEUED', 'DELIVERED', 'DEFERRED', 'FAILED', 'QUARANTINED', 'REJECTED'],
    description: "This recipient's copy (a split message has one per recipient); NOT_APPLICABLE for journal copies (watched, never delivered)",
  })
  deliveryState!: string;

  @ApiProperty({ enum: ['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT'], nullable: true, description: 'The decided action for this recipient' })
  decidedAction!: string | null;

  @ApiProperty({ enum: ['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT'], nullable: true, description: 'What Mailwarden applied (null in monitor-only)' })
  appliedAction!: string | null;

  @ApiProperty({ description: 'Delivery attempts made' })
  attempts!: number;

  @ApiProperty({ type: String, nullable: true })
  lastError!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastAttemptAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  deliveredAt!: string | null;

  @ApiProperty({ type: [RecipientEventDto], description: 'Oldest first; ACCEPTED is the time the message was received' })
  events!: RecipientEventDto[];
}
