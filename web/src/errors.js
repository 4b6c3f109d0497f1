// The one error type of the JavaScript API.

/**
 * Everything nexus refuses or fails at. `code` is the WIT `error` variant's
 * case (`invalid-namespace`, `invalid-key`, `key-too-large`, `value-too-large`,
 * `invalid-argument`, `not-an-integer`, `invalid-metadata`,
 * `condition-failed`, `quota-exceeded`, `not-found`, `storage`, `outcome-unknown`, `idempotency-key-reused`), or `trap`
 * when the guest itself failed, or `http` for a REST answer that is not 2xx
 * (then `status` is set). `reason` is for humans.
 */
export class NexusError extends Error {
  constructor(code, reason, options) {
    super(reason ? `${code}: ${reason}` : code, options);
    this.name = 'NexusError';
    this.code = code;
    this.reason = reason;
    if (options?.status !== undefined) this.status = options.status;
  }
}
