import { PickType } from '@nestjs/swagger';
import { MessageSearchQueryDto } from '../../messages/dto/message-search-query.dto';

/** The history-search filters a SOC uses to find what to claw back (the same fields and rules; at least one is required). */
export class RemediationSearchDto extends PickType(MessageSearchQueryDto, ['sender', 'subject', 'messageId', 'recipient', 'from', 'to'] as const) {}
