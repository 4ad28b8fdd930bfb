import { ApiProperty } from '@nestjs/swagger';
import { DomainDto } from './domain.dto';

export class DomainPageDto {
  @ApiProperty({ type: [DomainDto] })
  items!: DomainDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}
