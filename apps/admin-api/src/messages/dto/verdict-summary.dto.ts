import { ApiProperty } from '@nestjs/swagger';

export class VerdictSummaryDto {
  @ApiProperty()
  recipient!: string;

  @ApiProperty({ enum: ['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT'] })
  decidedAction!: string;

  @ApiProperty({ enum: ['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT'], nullable: true, type: String, description: 'null in monitor-only: decided, never applied' })
  appliedAction!: string | null;

  @ApiProperty()
  enforced!: boolean;

  @ApiProperty({ type: String, nullable: true, example: 'dmarc' })
  failedCheck!: string | null;
}
