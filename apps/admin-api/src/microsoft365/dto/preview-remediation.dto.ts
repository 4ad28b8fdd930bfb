import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, ValidateNested } from 'class-validator';
import { RemediationSearchDto } from './remediation-search.dto';

export class PreviewRemediationDto {
  @ApiProperty({ type: RemediationSearchDto })
  @IsObject()
  @ValidateNested()
  @Type(() => RemediationSearchDto)
  search!: RemediationSearchDto;
}
