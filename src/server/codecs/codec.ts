import type { ApiModel, Operation } from '../api-model.ts';
import type { AwsError } from '../errors.ts';
import type { KilnRequest, KilnResponse } from '../http-types.ts';

export interface ResolvedOperation {
  operation: Operation;
  /** URI labels, for REST protocols. */
  labels?: Record<string, string>;
}

/** One AWS protocol: finds the operation, reads its input, writes its output and errors. */
export interface Codec {
  /** Undefined when no operation of the model matches; the edge then answers an error. */
  resolveOperation(model: ApiModel, req: KilnRequest): ResolvedOperation | undefined;
  /** Whether the operation's input body is a stream the codec must not buffer. */
  streamsInput(model: ApiModel, operation: Operation): boolean;
  parseInput(model: ApiModel, resolved: ResolvedOperation, req: KilnRequest): Record<string, unknown>;
  serializeOutput(model: ApiModel, operation: Operation, output: Record<string, unknown>, requestId: string): KilnResponse;
  serializeError(model: ApiModel, error: AwsError, requestId: string, req?: KilnRequest): KilnResponse;
  /** The name the operation is asked for by, for "unknown operation" errors. */
  describeRequest(req: KilnRequest): string;
}
