import { ApiProperty } from '@nestjs/swagger';

export class SyncRunDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['SCHEDULED', 'ON_DEMAND', 'CSV_IMPORT'] })
  trigger!: string;

  @ApiProperty({ enum: ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'] })
  status!: string;

  @ApiProperty({ description: 'A full sync (first run, or after an expired delta link)' })
  fullSync!: boolean;

  @ApiProperty()
  mailboxesAdded!: number;

  @ApiProperty()
  mailboxesUpdated!: number;

  @ApiProperty()
  mailboxesRemoved!: number;

  @ApiProperty()
  groupsAdded!: number;

  @ApiProperty()
  groupsUpdated!: number;

  @ApiProperty()
  groupsRemoved!: number;

  @ApiProperty({ description: 'Groups whose member list was set' })
  membershipsSet!: number;

  @ApiProperty({ type: String, nullable: true, description: 'Why the run failed (it changed nothing)' })
  error!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finishedAt!: string | null;
}
