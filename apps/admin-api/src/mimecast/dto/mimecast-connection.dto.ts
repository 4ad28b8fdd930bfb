import { ApiProperty } from '@nestjs/swagger';

/** A Mimecast connection as admins see it: never its credentials. */
export class MimecastConnectionDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['V1', 'V2'] })
  apiVersion!: string;

  @ApiProperty()
  baseUrl!: string;

  @ApiProperty()
  enabled!: boolean;

  @ApiProperty()
  pollIntervalSeconds!: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastPolledAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}
