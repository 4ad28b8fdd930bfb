import { ApiProperty } from '@nestjs/swagger';

export class AuditEventDto {
  @ApiProperty({ example: '1042', description: 'Grows with time' })
  id!: string;

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
