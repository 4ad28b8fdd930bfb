import { ApiProperty } from '@nestjs/swagger';
import { POLICY_SETTINGS_SCHEMA } from './policy-settings.schema';

export class PolicyDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['EMAIL_SECURITY', 'DATA_CONTROL'] })
  kind!: string;

  @ApiProperty({ enum: ['PARTNER', 'ACCOUNT', 'DOMAIN', 'GROUP', 'USER'] })
  scope!: string;

  @ApiProperty({ format: 'uuid' })
  scopeId!: string;

  @ApiProperty(POLICY_SETTINGS_SCHEMA)
  settings!: object;

  @ApiProperty({ type: [String] })
  locks!: string[];

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}
