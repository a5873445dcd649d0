export * from './root-key-shares';
export * from './share-codec';
export * from './share-collector';
export * from './share-error';
