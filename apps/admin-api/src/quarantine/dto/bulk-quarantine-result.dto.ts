import { ApiProperty } from '@nestjs/swagger';
import { BulkQuarantineOutcomeDto } from './bulk-quarantine-outcome.dto';

export class BulkQuarantineResultDto {
  @ApiProperty({ type: [BulkQuarantineOutcomeDto], description: 'One outcome per id, in the order given' })
  results!: BulkQuarantineOutcomeDto[];
}
