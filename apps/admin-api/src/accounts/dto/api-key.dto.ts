import { ApiProperty } from '@nestjs/swagger';

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'k3y9pr3f1x00', description: 'Public part of the key (mw_<prefix>_…)' })
  prefix!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: ['PARTNER_ADMIN', 'TENANT_ADMIN', 'READ_ONLY'] })
  role!: string;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  accountId!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastUsedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt!: string | null;
}
