import { ApiProperty } from '@nestjs/swagger';

export class QuarantineMessageDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  envelopeFrom!: string;

  @ApiProperty({ type: String, nullable: true })
  headerFrom!: string | null;

  @ApiProperty({ type: String, nullable: true })
  subject!: string | null;

  @ApiProperty({ type: String, nullable: true })
  messageIdHeader!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  receivedAt!: string;
}
