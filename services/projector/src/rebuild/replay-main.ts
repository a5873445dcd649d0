import { runMain } from '@keyward/cli-kit';
import { replay } from './replay-cli';

// `keyward replay …` (bin/keyward.mjs runs this file; so does the keyward command's own `replay`).
const args = process.argv.slice(2);
runMain('keyward replay', replay, args[0] === 'replay' ? args.slice(1) : args);
