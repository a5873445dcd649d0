/**
 * Jest setup for the e2e project: the MongoDB driver (7.6+) loads its `os` adapter with a dynamic
 * `import('os')`, which Jest's module sandbox cannot run without --experimental-vm-modules. The
 * driver then sends an empty client metadata document in its handshake: FerretDB accepts it, a real
 * mongod refuses the connection ("Missing required sub-document 'driver' in the client metadata
 * document"; typegoose/mongodb-memory-server#1026). Resolve the adapter with `require` instead, as
 * the driver does outside Jest. Production code (plain Node) is not affected.
 */
jest.mock('mongodb/lib/runtime_adapters', () => {
  const actual = jest.requireActual<Record<string, unknown>>('mongodb/lib/runtime_adapters');
  return {
    ...actual,
    resolveRuntimeAdapters: (options: { runtimeAdapters?: { os?: object } }) =>
      Promise.resolve({ os: options.runtimeAdapters?.os ?? jest.requireActual<object>('node:os') }),
  };
});
