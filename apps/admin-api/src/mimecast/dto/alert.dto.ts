import { ApiProperty } from '@nestjs/swagger';

export class AlertDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['MIMECAST'] })
  source!: string;

  @ApiProperty({ example: 'url' })
  logType!: string;

  @ApiProperty({ example: 'Impersonation Attempt' })
  alertType!: string;

  @ApiProperty({ type: String, nullable: true, example: 'T1566.002' })
  mitreId!: string | null;

  @ApiProperty({ type: String, nullable: true })
  mitreName!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  occurredAt!: string;

  @ApiProperty()
  sender!: string;

  @ApiProperty()
  recipient!: string;

  @ApiProperty({ type: String, nullable: true })
  subject!: string | null;

  @ApiProperty({ type: String, nullable: true })
  url!: string | null;

  @ApiProperty({ type: String, nullable: true })
  fileName!: string | null;

  @ApiProperty({ type: String, nullable: true })
  messageIdHeader!: string | null;
}
