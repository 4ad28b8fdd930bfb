import { ApiProperty } from '@nestjs/swagger';
import { RecipientHistoryDto } from './recipient-history.dto';

export class MessageRecipientsDto {
  @ApiProperty({ format: 'uuid' })
  messageId!: string;

  @ApiProperty({ enum: ['NOT_APPLICABLE', 'QUEUED', 'DELIVERED', 'DEFERRED', 'FAILED', 'QUARANTINED', 'REJECTED'], description: "The message's state summed up over its recipients" })
  deliveryState!: string;

  @ApiProperty({ type: [RecipientHistoryDto] })
  recipients!: RecipientHistoryDto[];
}
