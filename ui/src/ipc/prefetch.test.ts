import { describe, expect, it } from 'vitest';
import { mockBackend, sampleEvent } from './mock';
import { withPrefetch } from './prefetch';
import type { ListQuery } from './backend';

const QUERY: ListQuery = { from: null, to: null, calendars: [], all: true, limit: null, cursor: null };

/** A mock backend that counts the calls of each method. */
function counted() {
  const backend = mockBackend([sampleEvent({ title: 'Standup' })]);
  const calls: Record<string, number> = {};
  for (const name of ['listEvents', 'calendars', 'settings', 'setSyncInterval'] as const) {
    const fn = backend[name] as (...a: unknown[]) => Promise<unknown>;
    (backend as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
      calls[name] = (calls[name] ?? 0) + 1;
      return fn.apply(backend, a);
    };
  }
  return { backend, calls };
}

describe('withPrefetch', () => {
  it('starts the reads at once and hands each answer to its first caller only', async () => {
    const { backend, calls } = counted();
    const b = withPrefetch(backend, [
      { method: 'listEvents', args: [QUERY] },
      { method: 'settings', args: [] },
    ]);
    expect(calls, 'asked before anyone calls').toEqual({ listEvents: 1, settings: 1 });
    const page = await b.listEvents({ ...QUERY });
    expect(page.events.map((e) => e.title)).toEqual(['Standup']);
    expect(calls.listEvents, 'the first call with the same arguments gets the kept answer').toBe(1);
    await b.listEvents(QUERY);
    expect(calls.listEvents, 'a second call asks the core again').toBe(2);
    await b.listEvents({ ...QUERY, all: false });
    expect(calls.listEvents, 'other arguments are another call').toBe(3);
  });

  it('drops what it kept once anything else is called, as a write may change it', async () => {
    const { backend, calls } = counted();
    const b = withPrefetch(backend, [{ method: 'calendars', args: [] }]);
    await b.setSyncInterval(30);
    await b.calendars();
    expect(calls.calendars, 'asked again after the write').toBe(2);
  });

  it('keeps its answers across a subscription, and drops them on a change event', async () => {
    const { backend, calls } = counted();
    const b = withPrefetch(backend, [{ method: 'calendars', args: [] }]);
    await b.onChange(() => {});
    await b.calendars();
    expect(calls.calendars, 'subscribing is no write: the kept answer is used').toBe(1);
    const again = withPrefetch(backend, [{ method: 'calendars', args: [] }]);
    backend.emitChange();
    await again.calendars();
    expect(calls.calendars, 'after a change the core is asked again, not answered from before it').toBe(3);
  });

  it('gives the first caller a prefetched rejection', async () => {
    const backend = mockBackend();
    backend.settings = async () => {
      throw { code: 'io', message: 'no disk', field: null };
    };
    const b = withPrefetch(backend, [{ method: 'settings', args: [] }]);
    await expect(b.settings()).rejects.toMatchObject({ code: 'io' });
  });
});
