import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Keystore, shredCommitted } from '@keyward/crypto';
import { commitEffects } from '@keyward/domain';
import { CommandExecutor, type Commit } from '@keyward/event-log';
import { CommitListeners } from './commit-listeners';
import { KeyMaterialService } from './key-material.service';

/**
 * Crypto-shredding: once a destruction (or an offboarding) is committed, the wrapped material
 * (or the tenant KEK) leaves the keystore before the command answers, and this instance forgets
 * the unwrapped copies. The projector repeats the shredding from the event stream, so a crash
 * between the commit and the delete still shreds.
 */
@Injectable()
export class Shredder implements OnModuleInit {
  private readonly logger = new Logger('shredder');

  constructor(
    private readonly listeners: CommitListeners,
    private readonly keystore: Keystore,
    private readonly materials: KeyMaterialService,
    private readonly executor: CommandExecutor,
  ) {}

  onModuleInit(): void {
    this.listeners.add((commit) => this.shred(commit));
  }

  async shred(commit: Commit): Promise<void> {
    const effects = commitEffects(commit.events);
    this.materials.forgetEffects(commit.tenantId, effects);
    // The commit is folded already: the log names each destroyed version's check value, so its material is deleted by `_id`.
    const log = this.executor.peek(commit.tenantId);
    const kcvOf = (keyId: string, version: number) => log?.keys.get(keyId)?.versions.find((v) => v.version === version)?.kcv;
    const count = await shredCommitted(this.keystore, commit.tenantId, effects.shred, kcvOf);
    if (count > 0) this.logger.log(`crypto-shredded ${count} keystore entries of tenant ${commit.tenantId} (seq ${commit.seq})`);
  }
}
