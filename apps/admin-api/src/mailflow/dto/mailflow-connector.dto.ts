import { ApiProperty } from '@nestjs/swagger';

/** The account's Microsoft 365 connector: how the mailflow front recognises mail that comes back from the tenant. */
export class MailflowConnectorDto {
  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ type: [String] })
  sourceIps!: string[];

  @ApiProperty({ type: String, nullable: true })
  tlsCertName!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}
