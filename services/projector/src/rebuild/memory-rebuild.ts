// The in-memory rebuild lives in @keyward/event-log (see rebuildViews); this path stays for
// bin/commands/replay.mjs, which loads it from dist/ until it imports the lib.
export { MemoryRebuild } from '@keyward/event-log';
