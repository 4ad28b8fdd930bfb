import { ApiProperty } from '@nestjs/swagger';

export class StatisticsCountDto {
  @ApiProperty({ description: 'The direction, action, check name, rule id or address counted' })
  key!: string;

  @ApiProperty()
  count!: number;
}
