import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ProblemFieldErrorDto } from './problem-field-error.dto';

/** RFC 9457 problem details, as every error of the admin API is answered (`application/problem+json`). */
export class ProblemDto {
  @ApiProperty({ example: 'urn:mailwarden:problem:not-found' })
  type!: string;

  @ApiProperty({ example: 'Not Found' })
  title!: string;

  @ApiProperty({ example: 404 })
  status!: number;

  @ApiProperty({ example: 'domain 0b9… not found' })
  detail!: string;

  @ApiProperty({ description: 'Stable machine-readable code', example: 'NOT_FOUND' })
  code!: string;

  @ApiPropertyOptional({ type: [ProblemFieldErrorDto] })
  errors?: ProblemFieldErrorDto[];
}
