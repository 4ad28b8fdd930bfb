import { ApiProperty } from '@nestjs/swagger';

export class GroupDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'Finance' })
  name!: string;

  @ApiProperty({ type: [String], description: 'Member mailbox addresses, sorted' })
  members!: string[];

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}
