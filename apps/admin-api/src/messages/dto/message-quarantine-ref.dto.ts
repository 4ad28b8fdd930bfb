import { ApiProperty } from '@nestjs/swagger';

export class MessageQuarantineRefDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  recipient!: string;

  @ApiProperty({ enum: ['HELD', 'RELEASED', 'DELETED'] })
  status!: string;

  @ApiProperty({ description: 'False in monitor-only: would have been quarantined, nothing held' })
  enforced!: boolean;
}
