import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsEmail } from 'class-validator';

export class GroupMembersDto {
  @ApiProperty({ type: [String], example: ['alice@contoso.example'], description: 'Mailbox addresses of the account (every one must exist)' })
  @IsArray()
  @ArrayMaxSize(5000)
  @IsEmail({ require_tld: true }, { each: true })
  members!: string[];
}
