const TONE: Record<string, string> = {
  Completed: 'ok',
  InService: 'ok',
  InProgress: 'busy',
  Creating: 'busy',
  Updating: 'busy',
  Stopping: 'busy',
  Deleting: 'busy',
  Failed: 'bad',
  Stopped: 'idle',
  OutOfService: 'bad',
};

export function Status({ value }: { value?: string }) {
  return <span className={`status ${TONE[value ?? ''] ?? 'idle'}`}>{value ?? '—'}</span>;
}
