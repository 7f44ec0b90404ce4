/**
 * A mistake in what the user typed or set (exit code 2).
 *
 * @internal
 */
export class UsageError {
  readonly _tag = "UsageError"
  constructor(readonly message: string) {}
}
