import { Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { StatisticsRepository } from '@mailwarden/db';
import { AdminController } from '../common/admin-controller.decorator';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import { StatisticsDto } from './dto/statistics.dto';
import { StatisticsQueryDto } from './dto/statistics-query.dto';

const HOUR_MS = 3_600_000;
/** Longest window: a year and a bit (aggregates are hourly, so this is at most ~10k hours per key). */
export const MAX_STATISTICS_WINDOW_MS = 400 * 24 * HOUR_MS;

@AdminController('statistics', 'v1/accounts/:accountId/statistics')
export class StatisticsController {
  constructor(
    private readonly statistics: StatisticsRepository,
    private readonly access: TenantAccess,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'getStatistics',
    summary: 'Dashboard counts over a time window: by direction, decided and applied action, failed check, data-control rule; top senders and targeted recipients (from hourly aggregates)',
  })
  @ApiOkResponse({ type: StatisticsDto })
  async get(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Query() query: StatisticsQueryDto): Promise<StatisticsDto> {
    await this.access.account(principal, accountId);
    const to = new Date(Math.ceil((query.to ? Date.parse(query.to) : Date.now()) / HOUR_MS) * HOUR_MS);
    const from = new Date(Math.floor((query.from ? Date.parse(query.from) : to.getTime() - 24 * HOUR_MS) / HOUR_MS) * HOUR_MS);
    if (from >= to) {
      throw new ApiProblem(400, ProblemCode.ValidationFailed, 'from must be before to', [{ field: 'from', code: 'INVALID_RANGE', message: 'from must be before to' }]);
    }
    if (to.getTime() - from.getTime() > MAX_STATISTICS_WINDOW_MS) {
      throw new ApiProblem(400, ProblemCode.ValidationFailed, 'the window may span at most 400 days', [{ field: 'from', code: 'INVALID_RANGE', message: 'the window may span at most 400 days' }]);
    }
    const figures = await this.statistics.forAccount(accountId, from, to, query.top ?? 10);
    return { from: from.toISOString(), to: to.toISOString(), ...figures };
  }
}
