import { Public } from '../http/public.decorator';
import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult, type HealthIndicatorFunction } from '@nestjs/terminus';
import { DependencyIndicator } from './dependency.indicator';
import { EXTRA_READINESS_CHECKS } from './health.tokens';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly deps: DependencyIndicator,
    @Optional() @Inject(EXTRA_READINESS_CHECKS) private readonly extra: HealthIndicatorFunction[] = [],
  ) {}

  /** The process is running and its event loop answers. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Kafka and MongoDB answer (plus service-specific checks); 503 otherwise. */
  @Get('ready')
  @HealthCheck({ swaggerDocumentation: true })
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.deps.mongodb(), () => this.deps.kafkaCluster(), ...this.extra]);
  }
}
