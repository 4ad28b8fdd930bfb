import { ApiProperty } from '@nestjs/swagger';

export class Microsoft365ConnectionDto {
  @ApiProperty({ description: "Whether the operator configured Mailwarden's Microsoft app (M365_CLIENT_ID)" })
  appConfigured!: boolean;

  @ApiProperty({ description: 'Whether a tenant admin of this account granted consent' })
  connected!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'Microsoft Entra tenant id' })
  tenantId!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  consentedAt!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The API key that asked for the consent link' })
  consentedBy!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastSyncAt!: string | null;

  @ApiProperty({ description: 'The next directory sync reads everything (no delta link yet)' })
  nextSyncIsFull!: boolean;
}
