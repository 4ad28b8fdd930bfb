import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { POLICY_KINDS } from './policy-path.dto';

export class PartnerPolicyPathDto {
  @ApiProperty({ enum: POLICY_KINDS })
  @IsIn(POLICY_KINDS)
  kind!: (typeof POLICY_KINDS)[number];
}
