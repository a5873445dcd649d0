import type { KeywardConfig } from '@keyward/config';
import { runService, startMain } from '@keyward/platform';
import { PROJECTOR, ProjectorModule } from './projector.module';

async function start(config: KeywardConfig): Promise<void> {
  await runService({ name: PROJECTOR, module: ProjectorModule.forRoot(config), config, listen: config.projector });
}

startMain(PROJECTOR, start);
