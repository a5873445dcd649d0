/**
 * A refusal that names its reason with a stable code (what callers branch on and doors map to
 * statuses) and carries details that are safe to show: never key material, shares or secrets.
 * DomainError, the crypto lib's ShareError and the key use cases' KeyUseError are its kinds.
 */
export class CodedError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}
