import { Global, Module } from '@nestjs/common';
import { Keystore } from '@keyward/crypto';
import { MongoConnection } from '@keyward/platform';
import { CommitListeners } from './commit-listeners';
import { CryptoService } from './crypto.service';
import { EncryptionBudgetService } from './encryption-budget.service';
import { UsageLimitsService } from './usage-limits.service';
import { EventStreamListener } from './event-stream.listener';
import { KeyMaterialService } from './key-material.service';
import { KeyStateSource } from './key-state.source';
import { PublicKeyService } from './public-key.service';
import { RootKeyService } from './root-key.service';
import { Shredder } from './shredder';
import { TenantSnapshotsWiring } from './tenant-snapshots.wiring';
import { UsageRecorder } from './usage.recorder';

const SHARED = [
  CommitListeners,
  RootKeyService,
  KeyMaterialService,
  KeyStateSource,
  UsageRecorder,
  EventStreamListener,
  Shredder,
  CryptoService,
  EncryptionBudgetService,
  UsageLimitsService,
  PublicKeyService,
  TenantSnapshotsWiring,
];

/**
 * Key management as every door (key-api, kmip) uses it: root key, keystore, material cache, key
 * states, the data plane, its usage audit, shredding after commits and the stream listener that
 * keeps the caches honest. A door provides the CommandExecutor (calling CommitListeners.notify
 * after each commit) and its own readiness checks; the platform modules provide config,
 * connections and metrics.
 */
@Global()
@Module({
  providers: [{ provide: Keystore, inject: [MongoConnection], useFactory: (m: MongoConnection) => new Keystore(m.db) }, ...SHARED],
  exports: [Keystore, ...SHARED],
})
export class KeysModule {}
