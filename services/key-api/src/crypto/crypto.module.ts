import { Global, Module } from '@nestjs/common';
import { EventStreamListener, KeysModule, RootKeyService } from '@keyward/keys';
import { EXTRA_READINESS_CHECKS } from '@keyward/platform';

/** key-api's door to libs/keys (root key, keystore, material cache, the data plane, its usage audit) and its readiness. */
@Global()
@Module({
  imports: [KeysModule],
  providers: [
    {
      provide: EXTRA_READINESS_CHECKS,
      inject: [RootKeyService, EventStreamListener],
      useFactory: (root: RootKeyService, stream: EventStreamListener) => [
        () => Promise.resolve(root.health()),
        () => Promise.resolve(stream.health()),
      ],
    },
  ],
  exports: [KeysModule, EXTRA_READINESS_CHECKS],
})
export class CryptoModule {}
