import { asEnum, children, ObjectType, QueryFunction, SUPPORTED_VERSIONS, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { versionItem, versionOf, type Payload, type Version } from '../kmip-call';

/** Discover Versions: the versions Keyward speaks, or those of the client's list it speaks, most preferred first. */
export function discoverVersions(payload: TtlvItem | undefined): Payload {
  const offered = children(payload, Tag.ProtocolVersion)
    .map(versionOf)
    .filter((v): v is Version => v !== undefined);
  const answer =
    offered.length === 0
      ? SUPPORTED_VERSIONS
      : SUPPORTED_VERSIONS.filter((s) => offered.some((o) => o.major === s.major && o.minor === s.minor));
  return answer.map(versionItem);
}

/** Query: supported operations, object types (Symmetric Key, Secret Data, Opaque Object, Public and Private Key) and server information. */
export function query(payload: TtlvItem | undefined, operations: readonly number[]): Payload {
  const functions = new Set(children(payload, Tag.QueryFunction).map(asEnum));
  const out: TtlvItem[] = [];
  if (functions.has(QueryFunction.QueryOperations)) for (const op of operations) out.push(ttlv.enum(Tag.Operation, op));
  if (functions.has(QueryFunction.QueryObjects)) {
    out.push(
      ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      ttlv.enum(Tag.ObjectType, ObjectType.SecretData),
      ttlv.enum(Tag.ObjectType, ObjectType.OpaqueObject),
      ttlv.enum(Tag.ObjectType, ObjectType.PublicKey),
      ttlv.enum(Tag.ObjectType, ObjectType.PrivateKey),
      ttlv.enum(Tag.ObjectType, ObjectType.Certificate),
    );
  }
  if (functions.has(QueryFunction.QueryServerInformation)) {
    out.push(ttlv.text(Tag.VendorIdentification, 'Keyward'));
    out.push(ttlv.struct(Tag.ServerInformation, []));
  }
  return out;
}
