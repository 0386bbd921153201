/** Loads data now and again every `everyMs` while `active`; errors are kept for display. */
import { useCallback, useEffect, useRef, useState } from 'react';

export function usePoll<T>(load: () => Promise<T>, deps: unknown[], everyMs = 2000, active: (data: T | undefined) => boolean = () => true) {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const loader = useRef(load);
  loader.current = load;
  const refresh = useCallback(async () => {
    try {
      setData(await loader.current());
      setError(undefined);
    } catch (e) {
      setError(e as Error);
    }
  }, []);
  const latest = useRef<T | undefined>(undefined);
  latest.current = data;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      await refresh();
      if (!stopped && active(latest.current)) timer = setTimeout(tick, everyMs);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return { data, error, refresh };
}
