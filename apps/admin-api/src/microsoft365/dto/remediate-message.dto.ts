import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsEmail, IsIn, IsOptional } from 'class-validator';
import { REMEDIATION_ACTION_DOC, REMEDIATION_ACTIONS, type RemediationActionParam } from './remediation-action';

export class RemediateMessageDto {
  @ApiProperty({ enum: REMEDIATION_ACTIONS, description: REMEDIATION_ACTION_DOC })
  @IsIn(REMEDIATION_ACTIONS)
  action!: RemediationActionParam;

  @ApiPropertyOptional({ type: [String], description: "Only these recipients' mailboxes (default: every recipient in the account's domains)" })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsEmail({}, { each: true })
  recipients?: string[];
}
