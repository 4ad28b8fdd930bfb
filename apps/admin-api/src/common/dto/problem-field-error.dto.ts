import { ApiProperty } from '@nestjs/swagger';

export class ProblemFieldErrorDto {
  @ApiProperty({ example: 'senderChecks.dkim.action' })
  field!: string;

  @ApiProperty({ example: 'INVALID_VALUE' })
  code!: string;

  @ApiProperty()
  message!: string;
}
