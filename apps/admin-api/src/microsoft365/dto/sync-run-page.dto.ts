import { ApiProperty } from '@nestjs/swagger';
import { SyncRunDto } from './sync-run.dto';

export class SyncRunPageDto {
  @ApiProperty({ type: [SyncRunDto] })
  items!: SyncRunDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}
