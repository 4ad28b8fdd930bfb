import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsObject, IsString } from 'class-validator';

export class PutPolicyDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Partial settings at this scope (Email Security: senderChecks, allowList, blockList, blockAction, subjectTag; Data Control: enabled, rules)',
    example: { senderChecks: { dkim: { action: 'QUARANTINE' } }, subjectTag: '[EXTERNAL]' },
  })
  @IsObject()
  settings!: Record<string, unknown>;

  @ApiProperty({ type: [String], description: 'Option paths locked at this scope for every level below', example: ['senderChecks.dmarc'] })
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  locks!: string[];
}
