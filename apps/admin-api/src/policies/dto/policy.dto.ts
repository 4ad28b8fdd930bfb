import { ApiProperty } from '@nestjs/swagger';

export class PolicyDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['EMAIL_SECURITY', 'DATA_CONTROL'] })
  kind!: string;

  @ApiProperty({ enum: ['PARTNER', 'ACCOUNT', 'DOMAIN', 'GROUP', 'USER'] })
  scope!: string;

  @ApiProperty({ format: 'uuid' })
  scopeId!: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  settings!: object;

  @ApiProperty({ type: [String] })
  locks!: string[];

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}
