import { ApiProperty } from '@nestjs/swagger';
import { QuarantineItemDto } from './quarantine-item.dto';

export class QuarantinePageDto {
  @ApiProperty({ type: [QuarantineItemDto] })
  items!: QuarantineItemDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}
