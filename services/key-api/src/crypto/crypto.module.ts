import { Global, Module } from '@nestjs/common';
import { Keystore } from '@keyward/crypto';
import { EXTRA_READINESS_CHECKS, MongoConnection } from '@keyward/platform';
import {
  CryptoService,
  EncryptionBudgetService,
  EventStreamListener,
  KeyMaterialService,
  KeyStateSource,
  RootKeyService,
  Shredder,
  UsageRecorder,
} from '@keyward/keys';

/** Root key, keystore, material cache, the data plane and its usage audit. */
@Global()
@Module({
  providers: [
    { provide: Keystore, inject: [MongoConnection], useFactory: (m: MongoConnection) => new Keystore(m.db) },
    RootKeyService,
    KeyMaterialService,
    KeyStateSource,
    UsageRecorder,
    EventStreamListener,
    Shredder,
    CryptoService,
    EncryptionBudgetService,
    {
      provide: EXTRA_READINESS_CHECKS,
      inject: [RootKeyService, EventStreamListener],
      useFactory: (root: RootKeyService, stream: EventStreamListener) => [
        () => Promise.resolve(root.health()),
        () => Promise.resolve(stream.health()),
      ],
    },
  ],
  exports: [
    Keystore,
    RootKeyService,
    KeyMaterialService,
    KeyStateSource,
    CryptoService,
    UsageRecorder,
    EncryptionBudgetService,
    EXTRA_READINESS_CHECKS,
    EventStreamListener,
  ],
})
export class CryptoModule {}
