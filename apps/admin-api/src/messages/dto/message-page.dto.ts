import { ApiProperty } from '@nestjs/swagger';
import { MessageSummaryDto } from './message-summary.dto';

export class MessagePageDto {
  @ApiProperty({ type: [MessageSummaryDto] })
  items!: MessageSummaryDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}
