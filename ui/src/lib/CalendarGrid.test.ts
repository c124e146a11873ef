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
});
