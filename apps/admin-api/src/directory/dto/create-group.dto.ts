import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsEmail, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class CreateGroupDto {
  @ApiProperty({ example: 'Finance', maxLength: 200 })
  @IsString()
  @MaxLength(200)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @ApiPropertyOptional({ type: [String], example: ['alice@contoso.example'], description: 'Mailbox addresses of the account (every one must exist)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(5000)
  @IsEmail({ require_tld: true }, { each: true })
  members?: string[];
}
