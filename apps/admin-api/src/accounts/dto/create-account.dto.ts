import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

export class CreateAccountDto {
  @ApiProperty({ example: 'Contoso Ltd', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({
    default: true,
    description: 'Start in monitor-only (journal copies, nothing applied). Later changes go through a mode migration only.',
  })
  @IsOptional()
  @IsBoolean()
  monitorOnly?: boolean;
}
