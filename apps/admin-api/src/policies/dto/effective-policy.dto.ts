import { ApiProperty } from '@nestjs/swagger';
import { ResolvedPolicyDto } from './resolved-policy.dto';

export class EffectivePolicyDto {
  @ApiProperty()
  recipient!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Ids of the levels that applied: partnerId, accountId, domainId, groupIds, userId' })
  target!: object;

  @ApiProperty({ type: ResolvedPolicyDto })
  emailSecurity!: ResolvedPolicyDto;

  @ApiProperty({ type: ResolvedPolicyDto })
  dataControl!: ResolvedPolicyDto;
}
