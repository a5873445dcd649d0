import { runMain } from '@keyward/cli-kit';
import { backup } from './backup-cli';

// `keyward backup …` (bin/keyward-backup.mjs, or the keyward command, runs this file). `keyward backup now`
// arrives here as `now`; `node bin/keyward-backup.mjs backup now` works too.
const args = process.argv.slice(2);
runMain('keyward backup', backup, args[0] === 'backup' ? args.slice(1) : args);
