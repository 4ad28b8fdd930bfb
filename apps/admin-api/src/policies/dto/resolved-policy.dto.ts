import { ApiProperty } from '@nestjs/swagger';

export class ResolvedPolicyDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Effective settings' })
  settings!: object;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Per option path: source {level, id}, locked, lockedBy, overriddenByLock, contributors (lists)',
  })
  options!: object;
}
