import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsOptional, MaxLength, Min } from 'class-validator';
import { PageQueryDto } from '../../common/dto/page-query.dto';

/** Whose emergency inbox: the mailbox address (any recipient address of the account's gateway / mailflow domains). */
export class EmergencyInboxMailboxDto {
  @ApiProperty({ description: 'The mailbox (envelope recipient address)', example: 'alice@contoso.example' })
  @IsEmail({ require_tld: false })
  @MaxLength(320)
  mailbox!: string;
}

export class EmergencyInboxQueryDto extends IntersectionType(PageQueryDto, EmergencyInboxMailboxDto) {
  @ApiPropertyOptional({ minimum: 1, description: 'Last N days (default and maximum: EMERGENCY_INBOX_DAYS, 14 unless configured)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  days?: number;
}
