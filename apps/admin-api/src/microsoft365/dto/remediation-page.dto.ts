import { ApiProperty } from '@nestjs/swagger';
import { RemediationDto } from './remediation.dto';

export class RemediationPageDto {
  @ApiProperty({ type: [RemediationDto] })
  items!: RemediationDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}
