import { Controller, Get, Header, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Registry } from 'prom-client';
import { runHealthChecks, type HealthIndicator, type HealthReport } from './health';
import { HEALTH_INDICATORS, METRICS_REGISTRY } from './observability.constants';

interface StatusResponse {
  status(code: number): unknown;
}

/** `/health` (200, or 503 naming the failing part) and `/metrics` (Prometheus text format). */
@ApiExcludeController()
@Controller()
export class ObservabilityController {
  constructor(
    @Inject(HEALTH_INDICATORS) private readonly indicators: HealthIndicator[],
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  @Get('health')
  async health(@Res({ passthrough: true }) response: StatusResponse): Promise<HealthReport> {
    const report = await runHealthChecks(this.indicators);
    response.status(report.status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
