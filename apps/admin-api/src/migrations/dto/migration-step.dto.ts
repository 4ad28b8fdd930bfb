import { ApiProperty } from '@nestjs/swagger';

export class MigrationStepDto {
  @ApiProperty({ example: 0 })
  position!: number;

  @ApiProperty({ example: 'turn-monitor-only-off' })
  key!: string;

  @ApiProperty({ enum: ['AUTOMATED', 'MANUAL'] })
  kind!: string;

  @ApiProperty({ enum: ['PENDING', 'RUNNING', 'WAITING_FOR_ADMIN', 'DONE', 'FAILED', 'SKIPPED'] })
  status!: string;

  @ApiProperty({ type: String, nullable: true, description: 'What the admin must do (manual steps)' })
  instruction!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'Outcome of the action or check, as evidence' })
  result!: object | null;

  @ApiProperty()
  attempts!: number;

  @ApiProperty({ type: String, nullable: true })
  lastError!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completedAt!: string | null;
}
