import { ApiProperty } from '@nestjs/swagger';
import { MailboxDto } from './mailbox.dto';

export class MailboxPageDto {
  @ApiProperty({ type: [MailboxDto] })
  items!: MailboxDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}
