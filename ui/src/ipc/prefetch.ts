// The first screen's reads, asked for before the UI mounts. Mounting the page takes about 120 ms of the web
// process's time on the 2-core benchmark machine (scripts/bench-desktop.sh), and the four reads the page then
// made waited for it, and the calendars for the events before them: started here, the core answers them on
// its own threads meanwhile. Each answer is handed out once, to the first call with the same arguments;
// every later call, and every call after a write or a change event (another process wrote before the page
// could listen), asks the core again.
import type { Backend } from './backend';

/** A read the first screen makes: a Backend method and its arguments. */
export type StartupCall = {
  [K in keyof Backend]: { method: K; args: Parameters<Backend[K]> };
}[keyof Backend];

/** The reads whose answers are kept for their first caller; nothing else may be prefetched. */
const READS = new Set<keyof Backend>(['listEvents', 'calendars', 'settings', 'upcomingMeetings']);

/** Subscriptions: they neither read nor write, so they pass through and keep what was prefetched. */
const SUBSCRIPTIONS = new Set<keyof Backend>(['onChange', 'onSyncActivity']);

/** `backend` with `calls` already under way. */
export function withPrefetch(backend: Backend, calls: StartupCall[]): Backend {
  const pending = new Map<string, Promise<unknown>>();
  const key = (method: string, args: unknown[]) => JSON.stringify([method, args]);
  for (const call of calls) {
    if (!READS.has(call.method)) continue;
    const fn = backend[call.method] as (...args: unknown[]) => Promise<unknown>;
    const answer = fn.apply(backend, call.args);
    // Not unhandled if nobody comes for it: the caller that does sees the rejection.
    answer.catch(() => {});
    pending.set(key(call.method, call.args), answer);
  }
  // A change that lands before the components listen would otherwise be followed by an answer from before it.
  void backend.onChange(() => pending.clear()).catch(() => pending.clear());
  const wrapped = { ...backend };
  for (const method of Object.keys(backend) as (keyof Backend)[]) {
    const fn = backend[method] as (...args: unknown[]) => Promise<unknown>;
    (wrapped as Record<string, unknown>)[method] = (...args: unknown[]) => {
      if (SUBSCRIPTIONS.has(method)) return fn.apply(backend, args);
      if (!READS.has(method)) {
        // A write (or anything else) may change what the kept answers say.
        pending.clear();
        return fn.apply(backend, args);
      }
      const k = key(method, args);
      const kept = pending.get(k);
      pending.delete(k);
      return kept ?? fn.apply(backend, args);
    };
  }
  return wrapped;
}
