import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/dto/page-query.dto';

export class QuarantineQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['HELD', 'RELEASED', 'DELETED'] })
  @IsOptional()
  @IsIn(['HELD', 'RELEASED', 'DELETED'])
  status?: 'HELD' | 'RELEASED' | 'DELETED';

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
