import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { ListQuery } from '../ipc/backend';
import { mockBackend, sampleEvent } from '../ipc/mock';
import CalendarPage from './CalendarPage.svelte';

const DAY = 24 * 60 * 60 * 1000;

function setup(backend = mockBackend([sampleEvent({ title: 'Standup' })])) {
  const queries: ListQuery[] = [];
  const list = backend.listEvents;
  backend.listEvents = async (q) => {
    queries.push(q);
    return list(q);
  };
  const onconnect = vi.fn();
  render(CalendarPage, { backend, onconnect });
  const lastFrom = () => queries[queries.length - 1]?.from ?? null;
  return { backend, queries, onconnect, lastFrom };
}

// The grid mounts slowly on a busy machine.
const until = (check: () => void) => vi.waitFor(check, { timeout: 5000 });

const key = (k: string, target: Element | Window = window) => fireEvent.keyDown(target, { key: k });

describe('CalendarPage keyboard', () => {
  it('d, w, m and a switch the view', async () => {
    setup();
    await screen.findByTestId('agenda');
    await key('w');
    expect(screen.getByTestId('view-w')).toHaveAttribute('aria-pressed', 'true');
    expect(await screen.findByTestId('calendar-grid')).toBeInTheDocument();
    await key('d');
    expect(screen.getByTestId('view-d')).toHaveAttribute('aria-pressed', 'true');
    await key('m');
    expect(screen.getByTestId('view-m')).toHaveAttribute('aria-pressed', 'true');
    await key('a');
    expect(screen.getByTestId('view-a')).toHaveAttribute('aria-pressed', 'true');
    expect(await screen.findByTestId('agenda')).toBeInTheDocument();
  });

  it('the arrows move the week and t comes back to today', async () => {
    const { lastFrom } = setup();
    await screen.findByTestId('agenda');
    await key('w');
    await until(() => expect(lastFrom(), 'the week view asks for its range').not.toBeNull());
    const thisWeek = Date.parse(lastFrom() as string);
    // In whole days, so that a daylight-saving change inside the range does not matter.
    const daysOn = () => Math.round((Date.parse(lastFrom() as string) - thisWeek) / DAY);
    await key('ArrowRight');
    await until(() => expect(daysOn(), '→ is the next week').toBe(7));
    await key('ArrowRight');
    await until(() => expect(daysOn()).toBe(14));
    await key('ArrowLeft');
    await until(() => expect(daysOn(), '← goes back a week').toBe(7));
    await key('t');
    await until(() => expect(daysOn(), 't is this week again').toBe(0));
  });

  it('the arrows step the agenda by four weeks and t returns to the default window', async () => {
    const { lastFrom } = setup();
    await screen.findByTestId('agenda');
    expect(lastFrom(), "the agenda starts on the core's default window").toBeNull();
    const before = Date.now();
    await key('ArrowRight');
    await until(() => expect(lastFrom()).not.toBeNull());
    const from = Date.parse(lastFrom() as string);
    expect(from, 'four weeks on, from a day before now').toBeGreaterThanOrEqual(before - DAY + 28 * DAY);
    expect(from).toBeLessThanOrEqual(Date.now() - DAY + 28 * DAY);
    expect(screen.getByTestId('agenda-range')).not.toHaveTextContent('Next four weeks');
    await key('t');
    await until(() => expect(lastFrom(), 't: the default window again').toBeNull());
    expect(screen.getByTestId('agenda-range')).toHaveTextContent('Next four weeks');
  });

  it('n opens the new event form and Escape closes it', async () => {
    setup();
    await screen.findByTestId('agenda');
    await key('n');
    expect(await screen.findByTestId('event-form')).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'New event' })).toBeInTheDocument();
    await key('w');
    expect(screen.getByTestId('view-a'), 'keys go to the dialog while it is open').toHaveAttribute('aria-pressed', 'true');
    await key('Escape');
    expect(screen.queryByTestId('event-form')).toBeNull();
  });

  it('Escape closes the event details, and keys wait while they are open', async () => {
    setup();
    await fireEvent.click(await screen.findByText('Standup'));
    await screen.findByTestId('event-details');
    await key('n');
    expect(screen.queryByTestId('event-form'), 'n does not open a form over the details').toBeNull();
    await key('Escape');
    expect(screen.queryByTestId('event-details')).toBeNull();
  });

  it('ignores shortcuts typed into a text field', async () => {
    const { queries } = setup();
    await screen.findByTestId('agenda');
    const input = document.createElement('input');
    const textarea = document.createElement('textarea');
    document.body.append(input, textarea);
    const asked = queries.length;
    for (const target of [input, textarea]) {
      for (const k of ['n', 'w', 't', 'ArrowRight']) await key(k, target);
    }
    expect(screen.queryByTestId('event-form'), 'typing n does not open the form').toBeNull();
    expect(screen.getByTestId('view-a'), 'typing w does not switch view').toHaveAttribute('aria-pressed', 'true');
    expect(queries.length, 'typing arrows does not move the range').toBe(asked);
    input.remove();
    textarea.remove();
  });

  it('ignores keys with Ctrl or Cmd, which belong to the system', async () => {
    setup();
    await screen.findByTestId('agenda');
    await fireEvent.keyDown(window, { key: 'n', ctrlKey: true });
    await fireEvent.keyDown(window, { key: 'w', metaKey: true });
    expect(screen.queryByTestId('event-form')).toBeNull();
    expect(screen.getByTestId('view-a')).toHaveAttribute('aria-pressed', 'true');
  });
});

describe('CalendarPage', () => {
  it('shows the newest range when answers arrive out of order', async () => {
    const backend = mockBackend();
    const pending: { from: string | null; resolve: (title: string) => void }[] = [];
    backend.listEvents = (q) =>
      new Promise((resolve) =>
        pending.push({
          from: q.from,
          resolve: (title) =>
            resolve({ events: [sampleEvent({ title })], has_more: false, next_cursor: null, previous_cursor: null }),
        }),
      );
    render(CalendarPage, { backend, onconnect: vi.fn() });
    await until(() => expect(pending).toHaveLength(1));
    pending[0].resolve('This month');
    await screen.findByText('This month');
    await key('ArrowRight');
    await key('ArrowLeft');
    await until(() => expect(pending).toHaveLength(3));
    pending[2].resolve('This month, again');
    await screen.findByText('This month, again');
    pending[1].resolve('Next month (late)');
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.queryByText('Next month (late)'), 'a late answer for a range no longer shown is dropped').toBeNull();
    expect(screen.getByText('This month, again')).toBeInTheDocument();
  });

  it("shows the calendar's name in the event details", async () => {
    const backend = mockBackend([sampleEvent({ title: 'Retro', calendar_id: 'cal-7' })]);
    backend.calendarList = [
      { id: 'cal-7', connection_id: 'local', name: 'Team', color: '#ff8800', is_primary: false, selected: true, read_only: false, event_count: 1 },
    ];
    setup(backend);
    await fireEvent.click(await screen.findByText('Retro'));
    const details = await screen.findByTestId('event-details');
    expect(within(details).getByTestId('details-calendar'), 'the name, not the id cal-7').toHaveTextContent(/^Team$/);
    expect(within(details).getByLabelText('Reminder'), "the event's own join rule is offered in its details").toBeInTheDocument();
  });

  it('"Connect a calendar" in the empty state goes to Connections', async () => {
    const { onconnect } = setup(mockBackend());
    await fireEvent.click(await screen.findByRole('button', { name: 'Connect a calendar' }));
    expect(onconnect).toHaveBeenCalledOnce();
  });

  it('shows Up next beside the calendar, but not on first run', async () => {
    const start = Date.now() + 10 * 60_000;
    const ev = sampleEvent({ title: 'Planning', start_time: new Date(start).toISOString(), end_time: new Date(start + 30 * 60_000).toISOString() });
    const backend = mockBackend([ev]);
    backend.upcoming = [{ event: ev, starts_in_seconds: 600, in_progress: false }];
    setup(backend);
    const panel = await screen.findByTestId('up-next');
    expect(await within(panel).findByText('Planning')).toBeInTheDocument();
  });

  it('leaves the first-run empty state alone on the page', async () => {
    setup(mockBackend());
    await screen.findByTestId('empty-state');
    expect(screen.queryByTestId('up-next'), 'no Up next panel with nothing on any calendar').toBeNull();
  });
});
