import { ApiProperty } from '@nestjs/swagger';
import { MigrationDto } from './migration.dto';

export class MigrationPageDto {
  @ApiProperty({ type: [MigrationDto] })
  items!: MigrationDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}
