import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';

export class AdvanceMigrationDto {
  @ApiPropertyOptional({
    default: false,
    description:
      'Accept the next manual step whose check Mailwarden cannot run yet (Exchange Online settings): the admin confirms doing it by hand; recorded in the step result and the audit log. Applies to one step per call',
  })
  @IsOptional()
  @IsBoolean()
  acknowledgeUnverifiable?: boolean;

  @ApiPropertyOptional({
    default: false,
    description:
      "Accept the next manual step whose check ran and has not passed (MX not changed yet, a wait not over): the step's stated risk is recorded with the acknowledgement in the step result and the audit log. Applies to one step per call",
  })
  @IsOptional()
  @IsBoolean()
  acknowledgeRisk?: boolean;
}
