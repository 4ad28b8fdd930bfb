import { ApiProperty } from '@nestjs/swagger';
import { VerdictSummaryDto } from './verdict-summary.dto';

export class VerdictDto extends VerdictSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'Every check run, in order, with result and evidence' })
  checks!: object[];

  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'Ordered reasons that led to the decided action' })
  reasons!: object[];

  @ApiProperty({ type: String, nullable: true })
  skippedReason!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;
}
