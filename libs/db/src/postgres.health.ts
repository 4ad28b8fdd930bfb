import { Injectable } from '@nestjs/common';
import { PrismaService } from './prisma.service';

/** /health check for PostgreSQL (implements HealthIndicator of @mailwarden/observability). */
@Injectable()
export class PostgresHealthIndicator {
  readonly name = 'postgres';

  constructor(private readonly prisma: PrismaService) {}

  async check(): Promise<void> {
    await this.prisma.$queryRaw`SELECT 1`;
  }
}
