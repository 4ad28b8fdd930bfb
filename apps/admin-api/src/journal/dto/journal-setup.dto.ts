import { ApiProperty } from '@nestjs/swagger';
import { JournalInstructionsDto } from './journal-instructions.dto';

export class JournalSetupDto {
  @ApiProperty({ example: 'j-0123abcd@journal.mailwarden.local' })
  address!: string;

  @ApiProperty({ type: [String], description: 'CIDR ranges allowed to send journal copies; empty: any' })
  allowedSourceIps!: string[];

  @ApiProperty()
  requireTls!: boolean;

  @ApiProperty({ type: JournalInstructionsDto })
  instructions!: JournalInstructionsDto;
}
