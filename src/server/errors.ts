/**
 * One error type for every AWS-shaped failure. Providers and engine code throw
 * `AwsError`; the protocol codec of the calling service renders it in that
 * protocol's shape (JSON `__type`, S3 XML `<Error>`, query `<ErrorResponse>`).
 */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra fields some errors carry on the wire (S3: BucketName, Key; runtime: OriginalStatusCode, ...). */
  readonly fields: Record<string, string | number>;
  /** Extra response headers (e.g. x-amzn-errortype overrides, Retry-After). */
  readonly headers: Record<string, string>;
  /** Client faults are "Sender", server faults "Receiver" (query protocol's <Type>). */
  readonly sender: boolean;

  constructor(
    code: string,
    message: string,
    status = 400,
    opts: { fields?: Record<string, string | number>; headers?: Record<string, string>; sender?: boolean } = {},
  ) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
    this.fields = opts.fields ?? {};
    this.headers = opts.headers ?? {};
    this.sender = opts.sender ?? status < 500;
  }
}

export const isAwsError = (e: unknown): e is AwsError => e instanceof AwsError;

/** The catalogue of errors Kiln raises from more than one place, worded as AWS words them. */
export const Errors = {
  internal: (detail?: string) =>
    new AwsError('InternalFailure', detail ? `An internal error occurred: ${detail}` : 'An internal error occurred.', 500),
  notImplemented: (service: string, operation: string) =>
    new AwsError(
      'NotImplemented',
      `The operation ${operation} of service ${service} is not implemented by Kiln yet.`,
      501,
    ),
  unknownOperation: (target: string) => new AwsError('UnknownOperationException', `Unknown operation ${target}.`, 400),
  serialization: (message: string) => new AwsError('SerializationException', message, 400),
  validation: (messages: string[]) =>
    new AwsError(
      'ValidationException',
      `${messages.length} validation error${messages.length === 1 ? '' : 's'} detected: ${messages.join('; ')}`,
      400,
    ),
  accessDenied: (principalArn: string, action: string, resource: string) =>
    new AwsError(
      'AccessDeniedException',
      `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource}`,
      403,
    ),
} as const;
