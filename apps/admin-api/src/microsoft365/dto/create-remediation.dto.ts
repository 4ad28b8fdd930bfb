import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsUUID, Min, ValidateNested } from 'class-validator';
import { REMEDIATION_ACTION_DOC, REMEDIATION_ACTIONS, type RemediationActionParam } from './remediation-action';
import { RemediationSearchDto } from './remediation-search.dto';

/** Either `messageIds` (a selection from history) or `search` (the history filters), not both. */
export class CreateRemediationDto {
  @ApiProperty({ enum: REMEDIATION_ACTIONS, description: REMEDIATION_ACTION_DOC })
  @IsIn(REMEDIATION_ACTIONS)
  action!: RemediationActionParam;

  @ApiPropertyOptional({ type: [String], description: 'Messages selected in history (all their recipients in the account\'s domains)' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  messageIds?: string[];

  @ApiPropertyOptional({ type: RemediationSearchDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RemediationSearchDto)
  search?: RemediationSearchDto;

  @ApiPropertyOptional({ description: 'The message count the preview showed; refused (409) when the search now matches a different number' })
  @IsOptional()
  @IsInt()
  @Min(0)
  expectedMessages?: number;
}
