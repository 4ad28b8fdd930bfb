import { ApiProperty } from '@nestjs/swagger';
import { AccountDto } from './account.dto';

export class AccountPageDto {
  @ApiProperty({ type: [AccountDto] })
  items!: AccountDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor!: string | null;
}
