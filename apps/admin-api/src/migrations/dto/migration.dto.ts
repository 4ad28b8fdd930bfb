import { ApiProperty } from '@nestjs/swagger';
import { MigrationStepDto } from './migration-step.dto';

export class MigrationDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ enum: ['ADVANCED_TO_MONITOR_ONLY', 'MONITOR_ONLY_TO_ADVANCED', 'GATEWAY_TO_MAILFLOW', 'MAILFLOW_TO_GATEWAY'] })
  kind!: string;

  @ApiProperty({ enum: ['PLANNED', 'RUNNING', 'WAITING', 'COMPLETED', 'FAILED', 'CANCELLED'] })
  status!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Domains concerned (with the mode each had when planned), target mode, MX host, quiet period (quietPeriodMs)' })
  params!: object;

  @ApiProperty({ type: [MigrationStepDto] })
  steps!: MigrationStepDto[];

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completedAt!: string | null;
}
