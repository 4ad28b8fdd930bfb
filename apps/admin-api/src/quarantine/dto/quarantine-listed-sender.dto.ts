import { ApiProperty } from '@nestjs/swagger';
import { PolicyDto } from '../../policies/dto/policy.dto';
import { QuarantineItemDto } from './quarantine-item.dto';

/** The outcome of release-and-allow-sender / delete-and-block-sender: the item and the account policy it changed. */
export class QuarantineListedSenderDto {
  @ApiProperty({ type: QuarantineItemDto })
  item!: QuarantineItemDto;

  @ApiProperty({ description: 'The address put on the list (envelope sender, else header From), lower-case' })
  sender!: string;

  @ApiProperty({ enum: ['allowList', 'blockList'], description: 'allowList.addresses or blockList.addresses of the account Email Security policy' })
  list!: 'allowList' | 'blockList';

  @ApiProperty({ type: PolicyDto, description: 'The account-level Email Security policy after the change' })
  policy!: PolicyDto;
}
