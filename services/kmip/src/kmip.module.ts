import { Module, type DynamicModule } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import { Keystore, shredCommitted } from '@keyward/crypto';
import { CommandExecutor, CommitStore, type Commit } from '@keyward/event-log';
import { ConfigModule, ConnectionsModule, MetricsModule, MongoConnection } from '@keyward/platform';
import { KeyMaterialService } from '../../key-api/src/crypto/key-material.service';
import { RootKeyService } from '../../key-api/src/crypto/root-key.service';
import { UsageRecorder } from '../../key-api/src/crypto/usage.recorder';
import { KmipOperations } from './kmip.operations';
import { KmipServer } from './kmip.server';

export const KMIP = 'kmip';

/**
 * As key-api's Shredder, for the commits this service makes: a destroyed key's material leaves the
 * keystore before the operation answers (the projector repeats it), and unwrapped copies of keys
 * that may no longer protect data leave memory.
 */
async function shredAfterCommit(commit: Commit, keystore: Keystore, materials: KeyMaterialService): Promise<void> {
  for (const event of commit.events) {
    if (event.type === 'key.destroyed.v1' || event.type === 'key.deactivated.v1' || event.type === 'key.compromised.v1') {
      materials.forgetKey(commit.tenantId, event.data.keyId);
    }
  }
  await shredCommitted(keystore, commit.tenantId, commit.events);
}

/**
 * The kmip service: its own CommandExecutor over the same commits collection (the key-api relay
 * publishes every stored commit), the same keystore, root key and usage topic as key-api.
 */
@Module({})
export class KmipModule {
  static forRoot(config: KeywardConfig): DynamicModule {
    return {
      module: KmipModule,
      imports: [ConfigModule.forRoot(config), MetricsModule.forRoot(KMIP), ConnectionsModule],
      providers: [
        { provide: CommitStore, inject: [MongoConnection], useFactory: (m: MongoConnection) => new CommitStore(m.db) },
        { provide: Keystore, inject: [MongoConnection], useFactory: (m: MongoConnection) => new Keystore(m.db) },
        {
          provide: CommandExecutor,
          inject: [CommitStore, Keystore, KeyMaterialService],
          useFactory: (store: CommitStore, keystore: Keystore, materials: KeyMaterialService) =>
            new CommandExecutor(store, (commit) => shredAfterCommit(commit, keystore, materials)),
        },
        RootKeyService,
        KeyMaterialService,
        UsageRecorder,
        KmipOperations,
        KmipServer,
      ],
    };
  }
}
