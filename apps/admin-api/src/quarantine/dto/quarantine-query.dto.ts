import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/dto/page-query.dto';
import { QUARANTINE_ITEM_STATUSES, type QuarantineItemStatus } from './quarantine-item.dto';

export class QuarantineQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: QUARANTINE_ITEM_STATUSES, description: 'HELD lists only items Mailwarden holds; WOULD_HAVE_BEEN_QUARANTINED the monitor-only ones' })
  @IsOptional()
  @IsIn(QUARANTINE_ITEM_STATUSES)
  status?: QuarantineItemStatus;

  @ApiPropertyOptional({ description: 'false: monitor-only items (would have been quarantined, nothing held)' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  enforced?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(320)
  recipient?: string;
}
