/** Errors a flow reports to its user: bad parameters, unknown columns, unreadable input. */
export class FlowError extends Error {
  constructor(
    message: string,
    /** HTTP status the API answers with. */
    readonly status = 400,
    readonly code = 'InvalidFlow',
  ) {
    super(message);
  }
}

export const isFlowError = (e: unknown): e is FlowError => e instanceof FlowError;

export function unknownColumn(column: string, where: string, columns: string[]): FlowError {
  const shown = columns.length > 40 ? `${columns.slice(0, 40).join(', ')}, …` : columns.join(', ');
  return new FlowError(`${where}: unknown column '${column}'; the input has: ${shown}`, 400, 'UnknownColumn');
}
