export * from './ttlv/ttlv.types';
export * from './ttlv/ttlv.codec';
export * from './ttlv/ttlv.build';
export * from './kmip.tags';
