/** KMIP 1.x / 2.x tags used by Keyward (KMIP 1.4 §9.1.3.1, KMIP 2.0 and 2.1 §9.1.3.1). */
export const Tag = {
  ActivationDate: 0x420001,
  ApplicationSpecificInformation: 0x420004,
  AsynchronousIndicator: 0x420007,
  Attribute: 0x420008,
  AttributeIndex: 0x420009,
  AttributeName: 0x42000a,
  AttributeValue: 0x42000b,
  Authentication: 0x42000c,
  BatchCount: 0x42000d,
  BatchErrorContinuationOption: 0x42000e,
  BatchItem: 0x42000f,
  BatchOrderOption: 0x420010,
  BlockCipherMode: 0x420011,
  CompromiseDate: 0x420020,
  CompromiseOccurrenceDate: 0x420021,
  CryptographicAlgorithm: 0x420028,
  CryptographicLength: 0x42002a,
  CryptographicParameters: 0x42002b,
  CryptographicUsageMask: 0x42002c,
  DeactivationDate: 0x42002f,
  DestroyDate: 0x420033,
  Digest: 0x420034,
  DigestValue: 0x420035,
  EncryptionKeyInformation: 0x420036,
  HashingAlgorithm: 0x420038,
  InitialDate: 0x420039,
  IvCounterNonce: 0x42003d,
  Key: 0x42003f,
  KeyBlock: 0x420040,
  KeyCompressionType: 0x420041,
  KeyFormatType: 0x420042,
  KeyMaterial: 0x420043,
  /** Certificate objects and their attributes (KMIP 1.x/2.x). */
  Certificate: 0x420013,
  CertificateType: 0x42001d,
  CertificateValue: 0x42001e,
  CertificateLength: 0x4200ad,
  CertificateSubjectCN: 0x420108,
  CertificateIssuerCN: 0x420114,
  /** Transparent RSA key fields (KMIP 1.x/2.x Key Material structures; Big Integers). */
  Modulus: 0x420052,
  PrivateExponent: 0x420063,
  PublicExponent: 0x42006c,
  P: 0x42005e,
  Q: 0x420071,
  PrimeExponentP: 0x420060,
  PrimeExponentQ: 0x420061,
  CRTCoefficient: 0x420027,
  KeyValue: 0x420045,
  KeyWrappingData: 0x420046,
  KeyWrappingSpecification: 0x420047,
  LastChangeDate: 0x420048,
  LeaseTime: 0x420049,
  MaximumItems: 0x42004f,
  MaximumResponseSize: 0x420050,
  MacSignatureKeyInformation: 0x42004e,
  Name: 0x420053,
  NameType: 0x420054,
  NameValue: 0x420055,
  ObjectGroup: 0x420056,
  ObjectType: 0x420057,
  Operation: 0x42005c,
  PaddingMethod: 0x42005f,
  ProtocolVersion: 0x420069,
  ProtocolVersionMajor: 0x42006a,
  ProtocolVersionMinor: 0x42006b,
  QueryFunction: 0x420074,
  RequestHeader: 0x420077,
  RequestMessage: 0x420078,
  RequestPayload: 0x420079,
  ResponseHeader: 0x42007a,
  ResponseMessage: 0x42007b,
  ResponsePayload: 0x42007c,
  ResultMessage: 0x42007d,
  ResultReason: 0x42007e,
  ResultStatus: 0x42007f,
  RevocationMessage: 0x420080,
  RevocationReason: 0x420081,
  RevocationReasonCode: 0x420082,
  SecretData: 0x420085,
  SecretDataType: 0x420086,
  OpaqueDataType: 0x420059,
  OpaqueDataValue: 0x42005a,
  OpaqueObject: 0x42005b,
  ServerInformation: 0x420088,
  State: 0x42008d,
  StorageStatusMask: 0x42008e,
  SymmetricKey: 0x42008f,
  TemplateAttribute: 0x420091,
  TimeStamp: 0x420092,
  UniqueBatchItemId: 0x420093,
  UniqueIdentifier: 0x420094,
  UsageLimits: 0x420095,
  UsageLimitsCount: 0x420096,
  UsageLimitsTotal: 0x420097,
  UsageLimitsUnit: 0x420098,
  VendorIdentification: 0x42009d,
  ValidityIndicator: 0x42009b,
  WrappingMethod: 0x42009e,
  EncodingOption: 0x4200a3,
  Data: 0x4200c2,
  RandomIv: 0x4200c5,
  MacData: 0x4200c6,
  TagLength: 0x4200ce,
  OffsetItems: 0x4200d4,
  CorrelationValue: 0x4200d6,
  AuthenticatedEncryptionAdditionalData: 0x4200fe,
  AuthenticatedEncryptionTag: 0x4200ff,
  ClientCorrelationValue: 0x420105,
  ServerCorrelationValue: 0x420106,
  Attributes: 0x420125,
  AttributeReference: 0x42013b,
  CurrentAttribute: 0x42013c,
  NewAttribute: 0x42013d,
  /** KMIP 2.1: the Log operation's text. */
  LogMessage: 0x420141,
  /** KMIP 2.1: the Interop operation (test harness markers). */
  InteropFunction: 0x420160,
  InteropIdentifier: 0x420161,
  // Attributes kept for clients (Object Group, Application Specific Information, ...) and server attributes.
  ApplicationData: 0x420002,
  ApplicationNamespace: 0x420003,
  ContactInformation: 0x420022,
  Link: 0x42004a,
  LinkType: 0x42004b,
  LinkedObjectIdentifier: 0x42004c,
  OperationPolicyName: 0x42005d,
  Fresh: 0x4200a8,
  OriginalCreationDate: 0x4200bc,
  AlternativeName: 0x4200bf,
  AlternativeNameValue: 0x4200c0,
  AlternativeNameType: 0x4200c1,
  Description: 0x4200fc,
  Comment: 0x4200fd,
  Sensitive: 0x420120,
  AlwaysSensitive: 0x420121,
  Extractable: 0x420122,
  NeverExtractable: 0x420123,
  RngParameters: 0x4200d9,
  RngAlgorithm: 0x4200da,
  DrbgAlgorithm: 0x4200db,
  RandomNumberGenerator: 0x4200de,
  ProcessStartDate: 0x420067,
  ProtectStopDate: 0x420068,
  // Cryptographic Parameters fields and the crypto service operations' payloads (KMIP 1.2-1.4).
  KeyRoleType: 0x420083,
  DigitalSignatureAlgorithm: 0x4200ae,
  DataLength: 0x4200c4,
  IvLength: 0x4200cd,
  FixedFieldLength: 0x4200cf,
  CounterLength: 0x4200d0,
  InitialCounterValue: 0x4200d1,
  InvocationFieldLength: 0x4200d2,
  InitIndicator: 0x4200d7,
  FinalIndicator: 0x4200d8,
  SaltLength: 0x420100,
  MaskGenerator: 0x420101,
  MaskGeneratorHashingAlgorithm: 0x420102,
  PSource: 0x420103,
  TrailerField: 0x420104,
  // Asymmetric keys (Create Key Pair, Sign, Signature Verify; KMIP 1.2-1.4, and 2.0's attribute lists).
  CommonTemplateAttribute: 0x42001f,
  PrivateKey: 0x420064,
  PrivateKeyTemplateAttribute: 0x420065,
  PrivateKeyUniqueIdentifier: 0x420066,
  PublicKey: 0x42006d,
  PublicKeyTemplateAttribute: 0x42006e,
  PublicKeyUniqueIdentifier: 0x42006f,
  RecommendedCurve: 0x420075,
  SignatureData: 0x4200c3,
  DigestedData: 0x420107,
  CommonAttributes: 0x420126,
  PrivateKeyAttributes: 0x420127,
  PublicKeyAttributes: 0x420128,
} as const;

export const Operation = {
  Create: 0x01,
  CreateKeyPair: 0x02,
  Register: 0x03,
  AddAttribute: 0x0d,
  ModifyAttribute: 0x0e,
  DeleteAttribute: 0x0f,
  Locate: 0x08,
  Get: 0x0a,
  GetAttributes: 0x0b,
  GetAttributeList: 0x0c,
  Check: 0x09,
  Activate: 0x12,
  Revoke: 0x13,
  Destroy: 0x14,
  Query: 0x18,
  DiscoverVersions: 0x1e,
  Encrypt: 0x1f,
  Decrypt: 0x20,
  Sign: 0x21,
  SignatureVerify: 0x22,
  Mac: 0x23,
  MacVerify: 0x24,
  RngRetrieve: 0x25,
  RngSeed: 0x26,
  Hash: 0x27,
  /** KMIP 2.0. */
  SetAttribute: 0x31,
  /** KMIP 2.1. */
  Log: 0x2c,
  /** KMIP 2.1. */
  Interop: 0x34,
} as const;

export const ResultStatus = { Success: 0, OperationFailed: 1, OperationPending: 2, OperationUndone: 3 } as const;

export const ResultReason = {
  ItemNotFound: 0x01,
  ResponseTooLarge: 0x02,
  AuthenticationNotSuccessful: 0x03,
  InvalidMessage: 0x04,
  OperationNotSupported: 0x05,
  MissingData: 0x06,
  InvalidField: 0x07,
  FeatureNotSupported: 0x08,
  CryptographicFailure: 0x0a,
  IllegalOperation: 0x0b,
  PermissionDenied: 0x0c,
  KeyFormatTypeNotSupported: 0x10,
  IndexOutOfBounds: 0x0e,
  KeyCompressionTypeNotSupported: 0x11,
  EncodingOptionError: 0x12,
  KeyValueNotPresent: 0x13,
  NotExtractable: 0x17,
  // KMIP 2.0
  ReadOnlyAttribute: 0x1d,
  UnsupportedAttribute: 0x1f,
  AttributeNotFound: 0x21,
  AttributeReadOnly: 0x22,
  AttributeSingleValued: 0x23,
  IncompatibleCryptographicUsageMask: 0x29,
  /** KMIP 2.x: a Name another instance (of this object or another) holds already. */
  NonUniqueNameAttribute: 0x35,
  /** KMIP 2.1 (as Keyward answers it): the object is destroyed (1.x-2.0: Illegal Operation). */
  ObjectDestroyed: 0x36,
  /** KMIP 2.1: the object a Unique Identifier names does not exist (1.x-2.0: Item Not Found). */
  ObjectNotFound: 0x37,
  GeneralFailure: 0x100,
} as const;

/** Certificate Type enumeration (KMIP 1.x/2.x). */
export const CertificateType = { X509: 1, PGP: 2 } as const;

export const ObjectType = {
  Certificate: 1,
  SymmetricKey: 2,
  PublicKey: 3,
  PrivateKey: 4,
  SplitKey: 5,
  Template: 6,
  SecretData: 7,
  OpaqueObject: 8,
} as const;

export const State = { PreActive: 1, Active: 2, Deactivated: 3, Compromised: 4, Destroyed: 5, DestroyedCompromised: 6 } as const;

export const CryptographicAlgorithm = {
  TRIPLE_DES: 0x02,
  AES: 0x03,
  HMAC_SHA1: 0x07,
  HMAC_SHA224: 0x08,
  HMAC_SHA256: 0x09,
  HMAC_SHA384: 0x0a,
  HMAC_SHA512: 0x0b,
  RSA: 0x04,
  ECDSA: 0x06,
  /** KMIP 1.2. */
  EC: 0x1a,
  /** KMIP 2.0. */
  Ed25519: 0x37,
} as const;

/** Digital Signature Algorithm (KMIP 1.1). */
export const DigitalSignatureAlgorithm = {
  SHA256WithRSA: 0x05,
  SHA384WithRSA: 0x06,
  SHA512WithRSA: 0x07,
  RSASSA_PSS: 0x08,
  ECDSAWithSHA256: 0x0e,
  ECDSAWithSHA384: 0x0f,
  ECDSAWithSHA512: 0x10,
} as const;

/** Recommended Curve (the curves Keyward's key types use). */
export const RecommendedCurve = { P_256: 0x07, P_384: 0x0a, CURVE25519: 0x45 } as const;

/** Link Type (the links between the two objects of a key pair). */
export const LinkType = { PublicKeyLink: 0x102, PrivateKeyLink: 0x103 } as const;

export const PaddingMethod = {
  None: 1,
  OAEP: 2,
  PKCS5: 3,
  SSL3: 4,
  Zeros: 5,
  AnsiX923: 6,
  Iso10126: 7,
  PKCS1v15: 8,
  X931: 9,
  PSS: 10,
} as const;

export const HashingAlgorithm = {
  MD2: 1,
  MD4: 2,
  MD5: 3,
  SHA_1: 4,
  SHA_224: 5,
  SHA_256: 6,
  SHA_384: 7,
  SHA_512: 8,
  RIPEMD_160: 9,
  Tiger: 10,
  Whirlpool: 11,
  SHA_512_224: 12,
  SHA_512_256: 13,
  SHA3_224: 14,
  SHA3_256: 15,
  SHA3_384: 16,
  SHA3_512: 17,
} as const;

export const BlockCipherMode = { CBC: 1, ECB: 2, CTR: 6, GCM: 9, AESKeyWrapPadding: 0x0c, NISTKeyWrap: 0x0d } as const;

export const WrappingMethod = { Encrypt: 1, MacSign: 2, EncryptThenMacSign: 3, MacSignThenEncrypt: 4 } as const;

export const EncodingOption = { NoEncoding: 1, TtlvEncoding: 2 } as const;

export const SecretDataType = { Password: 1, Seed: 2 } as const;

export const ValidityIndicator = { Valid: 1, Invalid: 2, Unknown: 3 } as const;

export const KeyFormatType = {
  Raw: 1,
  Opaque: 2,
  PKCS1: 3,
  PKCS8: 4,
  X509: 5,
  ECPrivateKey: 6,
  TransparentSymmetricKey: 7,
  TransparentRSAPrivateKey: 10,
  TransparentRSAPublicKey: 11,
} as const;

/** RNG Parameters enumerations (KMIP 1.3+). */
export const RngAlgorithm = { Unspecified: 1, Fips186_2: 2, Drbg: 3, Nrbg: 4, AnsiX931: 5, AnsiX962: 6 } as const;
export const DrbgAlgorithm = { Unspecified: 1, DualEc: 2, Hash: 3, Hmac: 4, Ctr: 5 } as const;

export const NameType = { UninterpretedTextString: 1, Uri: 2 } as const;

export const QueryFunction = { QueryOperations: 1, QueryObjects: 2, QueryServerInformation: 3 } as const;

export const RevocationReasonCode = {
  Unspecified: 1,
  KeyCompromise: 2,
  CaCompromise: 3,
  AffiliationChanged: 4,
  Superseded: 5,
  CessationOfOperation: 6,
  PrivilegeWithdrawn: 7,
} as const;

export const UsageLimitsUnit = { Byte: 1, Object: 2 } as const;

export const CryptographicUsageMask = {
  Sign: 0x1,
  Verify: 0x2,
  Encrypt: 0x4,
  Decrypt: 0x8,
  WrapKey: 0x10,
  UnwrapKey: 0x20,
  Export: 0x40,
  MacGenerate: 0x80,
  MacVerify: 0x100,
} as const;

/** Protocol versions Keyward speaks, most preferred first (Discover Versions answers these). */
export const SUPPORTED_VERSIONS: readonly { major: number; minor: number }[] = [
  { major: 2, minor: 1 },
  { major: 2, minor: 0 },
  { major: 1, minor: 4 },
  { major: 1, minor: 3 },
  { major: 1, minor: 2 },
  { major: 1, minor: 1 },
  { major: 1, minor: 0 },
];
