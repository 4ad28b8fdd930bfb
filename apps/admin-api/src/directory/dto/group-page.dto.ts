import { ApiProperty } from '@nestjs/swagger';
import { GroupDto } from './group.dto';

export class GroupPageDto {
  @ApiProperty({ type: [GroupDto] })
  items!: GroupDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}
