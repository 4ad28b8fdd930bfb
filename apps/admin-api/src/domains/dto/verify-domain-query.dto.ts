import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';

/** `?bypassCache=true`: ask the DNS servers now, not the admin API's short cache (after changing the record). */
export class VerifyDomainQueryDto {
  @ApiPropertyOptional({ description: 'true: skip the resolver cache and ask the DNS servers (DNS_SERVERS) now', default: false })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  bypassCache?: boolean;
}
