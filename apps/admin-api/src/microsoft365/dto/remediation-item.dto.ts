import { ApiProperty } from '@nestjs/swagger';

export class RemediationItemDto {
  @ApiProperty({ format: 'uuid' })
  messageId!: string;

  @ApiProperty()
  recipient!: string;

  @ApiProperty({ description: 'Internet Message-ID searched for in the mailbox' })
  internetMessageId!: string;

  @ApiProperty({ enum: ['QUEUED', 'IN_PROGRESS', 'COMPLETED', 'NOT_FOUND', 'ALREADY_IN_DESTINATION', 'FAILED'] })
  status!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Graph error code (FAILED), e.g. ErrorAccessDenied' })
  errorCode!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Graph error message as returned, or why nothing was found' })
  errorMessage!: string | null;

  @ApiProperty()
  attempts!: number;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}
