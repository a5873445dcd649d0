import { ItemType, type TtlvItem, type TtlvStructure } from './ttlv.types';

/** Small constructors and readers that keep message code readable. */
export const ttlv = {
  struct: (tag: number, value: TtlvItem[]): TtlvStructure => ({ tag, type: ItemType.Structure, value }),
  int: (tag: number, value: number): TtlvItem => ({ tag, type: ItemType.Integer, value }),
  long: (tag: number, value: bigint): TtlvItem => ({ tag, type: ItemType.LongInteger, value }),
  big: (tag: number, value: bigint): TtlvItem => ({ tag, type: ItemType.BigInteger, value }),
  enum: (tag: number, value: number): TtlvItem => ({ tag, type: ItemType.Enumeration, value }),
  bool: (tag: number, value: boolean): TtlvItem => ({ tag, type: ItemType.Boolean, value }),
  text: (tag: number, value: string): TtlvItem => ({ tag, type: ItemType.TextString, value }),
  bytes: (tag: number, value: Buffer): TtlvItem => ({ tag, type: ItemType.ByteString, value }),
  date: (tag: number, value: Date): TtlvItem => ({ tag, type: ItemType.DateTime, value: BigInt(Math.floor(value.getTime() / 1000)) }),
  interval: (tag: number, value: number): TtlvItem => ({ tag, type: ItemType.Interval, value }),
};

export function children(item: TtlvItem | undefined, tag: number): TtlvItem[] {
  if (item?.type !== ItemType.Structure) return [];
  return item.value.filter((c) => c.tag === tag);
}

export function child(item: TtlvItem | undefined, tag: number): TtlvItem | undefined {
  return children(item, tag)[0];
}

export function asStruct(item: TtlvItem | undefined): TtlvStructure | undefined {
  return item?.type === ItemType.Structure ? item : undefined;
}
export function asText(item: TtlvItem | undefined): string | undefined {
  return item?.type === ItemType.TextString ? item.value : undefined;
}
export function asEnum(item: TtlvItem | undefined): number | undefined {
  return item?.type === ItemType.Enumeration ? item.value : undefined;
}
export function asInt(item: TtlvItem | undefined): number | undefined {
  return item?.type === ItemType.Integer ? item.value : undefined;
}
export function asBytes(item: TtlvItem | undefined): Buffer | undefined {
  return item?.type === ItemType.ByteString ? item.value : undefined;
}
export function asBool(item: TtlvItem | undefined): boolean | undefined {
  return item?.type === ItemType.Boolean ? item.value : undefined;
}
export function asDate(item: TtlvItem | undefined): Date | undefined {
  return item?.type === ItemType.DateTime ? new Date(Number(item.value) * 1000) : undefined;
}
