import type { KeywardConfig } from '@keyward/config';
import { runService, startMain } from '@keyward/platform';
import { BACKUP, BackupModule } from './backup.module';

async function start(config: KeywardConfig): Promise<void> {
  await runService({ name: BACKUP, module: BackupModule.forRoot(config), config, listen: config.backup });
}

startMain(BACKUP, start);
