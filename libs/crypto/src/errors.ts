/** A ciphertext, MAC, wrapped key or its associated data did not authenticate. Says nothing more, on purpose. */
export class AuthenticationFailed extends Error {
  constructor() {
    super('authentication failed');
    this.name = 'AuthenticationFailed';
  }
}

/** The bytes are not a Keyward ciphertext or MAC at all (wrong encoding, magic, format or length). */
export class MalformedBlob extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'MalformedBlob';
  }
}
