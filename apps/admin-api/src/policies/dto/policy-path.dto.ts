import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsUUID } from 'class-validator';

export const POLICY_KINDS = ['email-security', 'data-control', 'retention'] as const;
export const POLICY_SCOPES = ['account', 'domain', 'group', 'user'] as const;

export class PolicyPathDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  accountId!: string;

  @ApiProperty({ enum: POLICY_KINDS })
  @IsIn(POLICY_KINDS)
  kind!: (typeof POLICY_KINDS)[number];

  @ApiProperty({ enum: POLICY_SCOPES })
  @IsIn(POLICY_SCOPES)
  scope!: (typeof POLICY_SCOPES)[number];

  @ApiProperty({ format: 'uuid', description: 'The account id (scope account), or the domain, group or user id' })
  @IsUUID()
  scopeId!: string;
}
