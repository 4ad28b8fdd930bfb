import { ApiProperty } from '@nestjs/swagger';

export class AuditEventDto {
  @ApiProperty({
    example: '42',
    description: "The event's number in this list's sequence: the account's own (1, 2, 3 ... per account) on account lists, the partner's on the partner list. Other tenants' changes leave no gaps in it",
  })
  sequence!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  at!: string;

  @ApiProperty({ example: 'api-key:k3y9pr3f1x00 (SIEM export)' })
  actor!: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  actorKeyId!: string | null;

  @ApiProperty({ example: 'domain.added' })
  action!: string;

  @ApiProperty({ example: 'domain' })
  objectType!: string;

  @ApiProperty()
  objectId!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  before!: object | null;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  after!: object | null;
}
