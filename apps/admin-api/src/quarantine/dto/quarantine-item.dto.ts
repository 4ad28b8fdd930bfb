import { ApiProperty } from '@nestjs/swagger';
import { QuarantineMessageDto } from './quarantine-message.dto';

export class QuarantineItemDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  messageId!: string;

  @ApiProperty()
  recipient!: string;

  @ApiProperty({ example: 'dkim: signature failed verification' })
  reason!: string;

  @ApiProperty({ enum: ['HELD', 'RELEASED', 'DELETED'] })
  status!: string;

  @ApiProperty({ description: 'False in monitor-only: nothing was held, so there is nothing to release' })
  enforced!: boolean;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  releasedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiresAt!: string | null;

  @ApiProperty({ type: QuarantineMessageDto })
  message!: QuarantineMessageDto;
}
