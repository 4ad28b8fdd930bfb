import { ApiProperty } from '@nestjs/swagger';

export class JournalInstructionsDto {
  @ApiProperty({ type: [String], description: 'Exchange Online: a Global-scope journal rule (spoofs of accepted domains count as internal)' })
  microsoft365!: string[];

  @ApiProperty({ type: [String], description: 'Google Workspace: compliance / content compliance rule that also delivers a copy' })
  googleWorkspace!: string[];
}
