import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { KeywardConfig } from '@keyward/config';
import { CommandExecutor, TenantSnapshots, type SnapshotEvent } from '@keyward/event-log';
import { KEYWARD_CONFIG, MetricsRegistry, MongoConnection } from '@keyward/platform';
import { RootKeyService } from './root-key.service';

/**
 * Turns on tenant-log snapshots for the door's CommandExecutor (key-api, kmip): a cold tenant is
 * loaded from its snapshot plus the commits after it. MAC'd under a key derived from the root key,
 * so a sealed instance neither reads nor writes them. TENANT_SNAPSHOT_EVERY=0 leaves them off.
 */
@Injectable()
export class TenantSnapshotsWiring {
  private readonly logger = new Logger('tenant-snapshots');

  constructor(
    executor: CommandExecutor,
    root: RootKeyService,
    mongo: MongoConnection,
    @Inject(KEYWARD_CONFIG) config: KeywardConfig,
    @Optional() metrics?: MetricsRegistry,
  ) {
    const everyCommits = config.limits.tenantSnapshotEvery;
    if (everyCommits === 0) return;
    const counter = metrics
      ? new Counter({
          name: 'keyward_tenant_snapshots_total',
          help: 'Tenant-log snapshots by outcome: restored (a cold tenant loaded from one), written, rejected-* (not used: mac, version, malformed, head), failed',
          labelNames: ['outcome'],
          registers: [metrics.registry],
        })
      : undefined;
    executor.useSnapshots({
      snapshots: new TenantSnapshots(mongo.db, () => root.snapshotMacKey()),
      everyCommits,
      observe: (event: SnapshotEvent) => {
        counter?.inc({ outcome: event });
        if (event === 'rejected-mac')
          this.logger.warn('a tenant snapshot did not verify (MAC): ignored, the log is folded from its commits');
      },
      onError: (err) => this.logger.warn(`tenant snapshot: ${err instanceof Error ? err.message : String(err)}`),
    });
  }
}
