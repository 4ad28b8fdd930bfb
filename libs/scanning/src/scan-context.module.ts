import { Module } from '@nestjs/common';
import { ScanContextCache } from './scan-context.cache';

/**
 * One ScanContextCache per process: the scan workers and the gateway's SMTP front import this module, and Nest
 * makes one instance of a static module, so with SCANNER_ROLE=all both read (and invalidate) the same cache.
 */
@Module({ providers: [ScanContextCache], exports: [ScanContextCache] })
export class ScanContextModule {}
