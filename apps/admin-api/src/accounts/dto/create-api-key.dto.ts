import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsString, MaxLength } from 'class-validator';

export const ACCOUNT_KEY_ROLES = ['TENANT_ADMIN', 'READ_ONLY'] as const;

export class CreateApiKeyDto {
  @ApiProperty({ example: 'SIEM export', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

  @ApiProperty({ enum: ACCOUNT_KEY_ROLES, description: 'Account keys are TENANT_ADMIN or READ_ONLY; partner admin keys are issued by the operator' })
  @IsIn(ACCOUNT_KEY_ROLES)
  role!: (typeof ACCOUNT_KEY_ROLES)[number];
}
