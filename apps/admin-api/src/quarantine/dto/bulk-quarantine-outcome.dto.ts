import { ApiProperty } from '@nestjs/swagger';

export const BULK_OUTCOMES = ['RELEASED', 'DELETED', 'NOT_FOUND', 'NOT_ENFORCED', 'ALREADY_RELEASED', 'ALREADY_DELETED', 'EXPIRED'] as const;

export class BulkQuarantineOutcomeDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: BULK_OUTCOMES })
  outcome!: (typeof BULK_OUTCOMES)[number];

  @ApiProperty()
  detail!: string;
}
