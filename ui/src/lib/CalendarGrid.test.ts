import { render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { sampleEvent } from '../ipc/mock';
import CalendarGrid from './CalendarGrid.svelte';

describe('CalendarGrid', () => {
  it('asks for the range it shows and renders titles as text', async () => {
    const now = new Date();
    const start = new Date(now.getFullYear(), now.getMonth(), now.getDate(), 10).toISOString();
    const end = new Date(now.getFullYear(), now.getMonth(), now.getDate(), 11).toISOString();
    const onrange = vi.fn();
    // `props:` explicitly: `events` is also the name of a Svelte mount option.
    const { container } = render(CalendarGrid, {
      props: {
        events: [sampleEvent({ title: '<img src=x onerror=alert(1)>', start_time: start, end_time: end })],
        view: 'dayGridMonth',
        onopen: vi.fn(),
        onrange,
      },
    });
    await vi.waitFor(() => expect(onrange, 'the grid reports its visible range so the App can query it').toHaveBeenCalled());
    const [from, to] = onrange.mock.calls[0] as [Date, Date];
    expect(from.getTime()).toBeLessThanOrEqual(now.getTime());
    expect(to.getTime()).toBeGreaterThan(now.getTime());
    expect(await screen.findByText('<img src=x onerror=alert(1)>')).toBeInTheDocument();
    expect(container.querySelector('img'), 'a title never becomes an element').toBeNull();
  });

  it('starts the week on the day the settings say', async () => {
    for (const [weekStart, day] of [['sunday', 0], ['monday', 1], ['saturday', 6]] as const) {
      const onrange = vi.fn();
      const { unmount } = render(CalendarGrid, {
        // The month view: its range also starts on the first day of a week, and jsdom cannot lay out a time grid.
        props: { events: [], view: 'dayGridMonth', weekStart, onopen: vi.fn(), onrange },
      });
      await vi.waitFor(() => expect(onrange).toHaveBeenCalled());
      const [from] = onrange.mock.calls[0] as [Date, Date];
      expect(from.getDay(), `a week that starts on ${weekStart}`).toBe(day);
      unmount();
    }
  });

  it("shows events' times in the chosen format", async () => {
    const now = new Date();
    const ev = sampleEvent({
      start_time: new Date(now.getFullYear(), now.getMonth(), now.getDate(), 13).toISOString(),
      end_time: new Date(now.getFullYear(), now.getMonth(), now.getDate(), 14).toISOString(),
    });
    for (const [timeFormat, expected] of [['h24', /^13:00/], ['h12', /^1:00\s?PM/i]] as const) {
      const { container, unmount } = render(CalendarGrid, {
        props: { events: [ev], view: 'dayGridMonth', timeFormat, onopen: vi.fn(), onrange: vi.fn() },
      });
      await vi.waitFor(() => expect(container.querySelector('.ec-event-time')).not.toBeNull());
      expect(container.querySelector('.ec-event-time')?.textContent, `${timeFormat} time`).toMatch(expected);
      unmount();
    }
  });
});
