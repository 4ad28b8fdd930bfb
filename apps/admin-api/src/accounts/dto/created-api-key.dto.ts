import { ApiProperty } from '@nestjs/swagger';
import { ApiKeyDto } from './api-key.dto';

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ example: 'mw_k3y9pr3f1x00_…', description: 'The key itself: shown once, stored only as a hash' })
  key!: string;
}
