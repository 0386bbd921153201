/**
 * A job failure whose message is the FailureReason users see. SageMaker starts it with
 * "ClientError:" when the input was at fault and "AlgorithmError:" when the algorithm failed.
 */
export class JobFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'JobFailure';
  }
}

/** FailureReason is at most 1024 characters on the wire. */
export function failureReason(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= 1024 ? trimmed : `${trimmed.slice(0, 1021)}...`;
}
