import { ApiProperty } from '@nestjs/swagger';

export class MailboxDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'alice@contoso.example', description: 'Lower-case address' })
  email!: string;

  @ApiProperty({ type: String, nullable: true })
  displayName!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}
