import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsObject, IsString } from 'class-validator';
import { POLICY_SETTINGS_SCHEMA } from './policy-settings.schema';

export class PutPolicyDto {
  @ApiProperty({
    ...POLICY_SETTINGS_SCHEMA,
    description: `Partial settings at this scope. ${POLICY_SETTINGS_SCHEMA.description}`,
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
