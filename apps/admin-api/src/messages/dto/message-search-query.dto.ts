import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { PageQueryDto } from '../../common/dto/page-query.dto';

export const MESSAGE_DIRECTIONS = ['INBOUND', 'OUTBOUND', 'INTERNAL', 'EXTERNAL'] as const;
export const MESSAGE_SOURCES = ['JOURNAL', 'GATEWAY', 'MAILFLOW'] as const;
export const POLICY_ACTIONS = ['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT'] as const;

/** Message history filters; results are ordered by receivedAt desc, id desc. */
export class MessageSearchQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Received at or after' })
  @IsOptional()
  @IsDateString()
  from?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Received before' })
  @IsOptional()
  @IsDateString()
  to?: string;

  @ApiPropertyOptional({ description: 'Envelope sender or header From address (exact)' })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  sender?: string;

  @ApiPropertyOptional({ description: 'One of the envelope recipients (exact)' })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  recipient?: string;

  @ApiPropertyOptional({ description: 'Text contained in the subject (case-insensitive), at least 3 characters', minLength: 3 })
  @IsOptional()
  @IsString()
  // The trigram index answers substrings of 3 characters or more; a shorter one would read every message.
  @MinLength(3, { message: 'subject must be at least 3 characters (a substring search)' })
  @MaxLength(200)
  subject?: string;

  @ApiPropertyOptional({ description: 'Message-ID header, with angle brackets', example: '<abc@contoso.example>' })
  @IsOptional()
  @IsString()
  @MaxLength(998)
  messageId?: string;

  @ApiPropertyOptional({ enum: MESSAGE_DIRECTIONS })
  @IsOptional()
  @IsIn(MESSAGE_DIRECTIONS)
  direction?: (typeof MESSAGE_DIRECTIONS)[number];

  @ApiPropertyOptional({ enum: MESSAGE_SOURCES })
  @IsOptional()
  @IsIn(MESSAGE_SOURCES)
  source?: (typeof MESSAGE_SOURCES)[number];

  @ApiPropertyOptional({ description: 'A verdict whose first failing check is this one', example: 'dmarc' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  failedCheck?: string;

  @ApiPropertyOptional({ enum: POLICY_ACTIONS, description: 'A verdict whose decided action is this one' })
  @IsOptional()
  @IsIn(POLICY_ACTIONS)
  action?: (typeof POLICY_ACTIONS)[number];

  @ApiPropertyOptional({ description: 'Domain of the envelope sender or the header From (exact; subdomains are not included)', example: 'contoso-payments.example' })
  @IsOptional()
  @IsString()
  @MaxLength(253)
  @Matches(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$/, { message: 'senderDomain must be a domain name such as example.com' })
  senderDomain?: string;

  @ApiPropertyOptional({ description: 'A verdict for which this data-control rule (its id in the Data Control policy) matched', example: 'cards' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  dataControlRule?: string;
}
