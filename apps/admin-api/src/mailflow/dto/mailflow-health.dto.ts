import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, ValidateIf } from 'class-validator';

/** One difference the tamper check found between what Mailwarden created in Exchange Online and what exists. */
export class MailflowDifferenceDto {
  @ApiProperty({ enum: ['InboundConnector', 'OutboundConnector', 'TransportRule'] })
  kind!: string;

  @ApiProperty({ description: 'The object name Mailwarden gave it' })
  name!: string;

  @ApiProperty({ enum: ['missing', 'disabled', 'changed', 'priority-changed'] })
  problem!: string;

  @ApiProperty({ type: String, nullable: true, description: 'The property that differs' })
  property!: string | null;

  @ApiProperty({ description: 'What Mailwarden created', nullable: true })
  expected!: unknown;

  @ApiProperty({ description: 'What Exchange Online holds now', nullable: true })
  actual!: unknown;

  @ApiProperty()
  description!: string;
}

/** A domain's Microsoft 365 mailflow health as the last tamper check saw it. */
export class DomainMailflowHealthDto {
  @ApiProperty({ enum: ['HEALTHY', 'DEGRADED'] })
  status!: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'Since when the domain has this status' })
  since!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  lastCheckedAt!: string;

  @ApiProperty({ type: [MailflowDifferenceDto] })
  differences!: MailflowDifferenceDto[];
}

export class MailflowAlertDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['TAMPER_DETECTED', 'TAMPER_CLEARED'] })
  kind!: string;

  @ApiProperty({ type: [String], description: 'Mailflow domains whose health changed' })
  domains!: string[];

  @ApiProperty({ type: [MailflowDifferenceDto] })
  differences!: MailflowDifferenceDto[];

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;
}

export class MailflowAlertPageDto {
  @ApiProperty({ type: [MailflowAlertDto] })
  items!: MailflowAlertDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class MailflowHealthDto {
  @ApiProperty({ type: String, nullable: true, format: 'host', description: "Exchange Online's inbound SMTP endpoint the quick test sends to; null: the domain's <domain>.mail.protection.outlook.com" })
  exchangeSmtpHost!: string | null;

  @ApiProperty()
  exchangeSmtpPort!: number;

  @ApiProperty({ type: Object, description: 'Per mailflow domain name: its health, or null when never checked', additionalProperties: { $ref: '#/components/schemas/DomainMailflowHealthDto', nullable: true } })
  domains!: Record<string, DomainMailflowHealthDto | null>;
}

/**
 * Exchange Online's inbound endpoints (the tenant's MX host): the quick test only ever sends there, so a tenant
 * admin cannot point the scanner's SMTP client at an internal host (operators set other endpoints, as tests do, in
 * `m365_mailflow_settings` directly).
 */
export const EXCHANGE_MX_HOST = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+mail\.protection\.(outlook\.com|outlook\.de|office365\.us|partner\.outlook\.cn)$/i;

export class UpdateMailflowEndpointDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: "The tenant's Exchange Online MX host (…mail.protection.outlook.com) the quick test sends to, port 25; null: derived from the domain",
    example: 'contoso-com.mail.protection.outlook.com',
  })
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(253)
  @Matches(EXCHANGE_MX_HOST, { message: 'exchangeSmtpHost must be an Exchange Online MX host (<name>.mail.protection.outlook.com)' })
  exchangeSmtpHost!: string | null;
}
