import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';

export class AdvanceMigrationDto {
  @ApiPropertyOptional({
    default: false,
    description:
      'Accept manual steps whose check Mailwarden cannot run yet (mailflow connectors, quick test): the admin confirms doing them by hand; recorded in the step result and the audit log',
  })
  @IsOptional()
  @IsBoolean()
  acknowledgeUnverifiable?: boolean;
}
