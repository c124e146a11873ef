import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NextMeeting } from '../ipc/backend';
import { mockBackend, sampleEvent } from '../ipc/mock';
import UpNext from './UpNext.svelte';

const NOW = Date.UTC(2030, 0, 7, 8, 56);
const MIN = 60_000;

function meeting(id: string, startsInMinutes: number, minutes: number, url: string | null): NextMeeting {
  const start = NOW + startsInMinutes * MIN;
  return {
    event: sampleEvent({
      id,
      title: `Meeting ${id}`,
      start_time: new Date(start).toISOString(),
      end_time: new Date(start + minutes * MIN).toISOString(),
      meeting_url: url,
      meeting_platform: url ? 'zoom' : null,
    }),
    starts_in_seconds: startsInMinutes * 60,
    in_progress: startsInMinutes <= 0,
  };
}

describe('UpNext', () => {
  beforeEach(() => {
    // shouldAdvanceTime keeps testing-library's waitFor working while the clock is ours.
    vi.useFakeTimers({ shouldAdvanceTime: true });
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows a live countdown that becomes "Now · … left" at the start', async () => {
    const backend = mockBackend();
    backend.upcoming = [meeting('a', 4, 15, 'https://zoom.us/j/1')];
    render(UpNext, { backend });
    const countdown = await screen.findByTestId('up-next-countdown');
    expect(countdown).toHaveTextContent('in 4 min');
    await vi.advanceTimersByTimeAsync(MIN);
    expect(countdown, 'the timer advances the countdown without a refetch').toHaveTextContent('in 3 min');
    await vi.advanceTimersByTimeAsync(3 * MIN + 3 * MIN);
    expect(screen.getByTestId('up-next-countdown'), 'three minutes into a 15-minute meeting').toHaveTextContent(
      'Now · 12 min left',
    );
  });

  it('shows hours and minutes for a later meeting, soonest first as the core sorted them', async () => {
    const backend = mockBackend();
    backend.upcoming = [meeting('a', 4, 15, null), meeting('b', 65, 30, null)];
    render(UpNext, { backend });
    const items = await screen.findAllByTestId('up-next-countdown');
    expect(items.map((i) => i.textContent)).toEqual(['in 4 min', 'in 1 h 5 min']);
  });

  it('Join calls the core with the event id', async () => {
    const backend = mockBackend();
    const m = meeting('ev-zoom', 2, 30, 'https://zoom.us/j/1');
    backend.upcoming = [m];
    backend.events = [m.event];
    render(UpNext, { backend });
    expect(await screen.findByTestId('up-next-item'), 'the platform by its name').toHaveTextContent('Zoom');
    await fireEvent.click(screen.getByRole('button', { name: 'Join Meeting ev-zoom' }));
    await vi.waitFor(() => expect(backend.joined, 'joinEvent got the event id').toEqual(['ev-zoom']));
    expect(await screen.findByTestId('join-status')).toHaveTextContent('Opened Zoom in the browser');
  });

  it('shows the core error as text when the meeting has no link', async () => {
    const backend = mockBackend();
    const m = meeting('ev-room', 2, 30, null);
    backend.upcoming = [m];
    backend.events = [m.event];
    render(UpNext, { backend });
    await fireEvent.click(await screen.findByTestId('up-next-join'));
    const status = await screen.findByTestId('join-status');
    expect(status, 'the no_meeting_link message is shown').toHaveTextContent('Meeting ev-room has no meeting link');
    expect(status).toHaveAttribute('role', 'alert');
    expect(backend.joined, 'nothing was opened').toEqual([]);
  });

  it('says so when the meetings cannot be loaded', async () => {
    const backend = mockBackend();
    backend.upcomingMeetings = async () => {
      throw { code: 'storage', message: 'database is locked', field: null };
    };
    render(UpNext, { backend });
    expect(await screen.findByTestId('up-next-error')).toHaveTextContent('database is locked');
    expect(screen.queryByTestId('up-next-empty'), 'an error is not an empty list').toBeNull();
  });

  it('shows a meeting once it comes within 24 hours, without asking the core again', async () => {
    const backend = mockBackend();
    backend.upcoming = [meeting('later', 25 * 60, 30, null)];
    const calls = vi.spyOn(backend, 'upcomingMeetings');
    render(UpNext, { backend });
    expect(await screen.findByTestId('up-next-empty'), '25 hours away is not up next yet').toBeInTheDocument();
    await vi.advanceTimersByTimeAsync(61 * MIN);
    expect(await screen.findByText('Meeting later')).toBeInTheDocument();
    expect(screen.getByTestId('up-next-countdown')).toHaveTextContent('in 23 h 59 min');
    expect(calls, 'the clock, not a refetch, brought it in').toHaveBeenCalledTimes(1);
  });

  it('refreshes when the core reports a change', async () => {
    const backend = mockBackend();
    render(UpNext, { backend });
    expect(await screen.findByTestId('up-next-empty')).toBeInTheDocument();
    backend.upcoming = [meeting('new', 10, 30, null)];
    backend.emitChange();
    expect(await screen.findByText('Meeting new'), 'a change event refetches the list').toBeInTheDocument();
  });

  it('refetches once when a shown meeting ends, so it leaves the list', async () => {
    const backend = mockBackend();
    backend.upcoming = [meeting('short', 1, 1, null)];
    const calls = vi.spyOn(backend, 'upcomingMeetings');
    render(UpNext, { backend });
    await screen.findByText('Meeting short');
    backend.upcoming = [];
    await vi.advanceTimersByTimeAsync(2 * MIN + 1000);
    expect(await screen.findByTestId('up-next-empty')).toBeInTheDocument();
    expect(calls, 'one load at mount, one when the meeting ended').toHaveBeenCalledTimes(2);
  });

  it('stops its timer when it is destroyed', async () => {
    const backend = mockBackend();
    backend.upcoming = [meeting('a', 4, 15, null)];
    const { unmount } = render(UpNext, { backend });
    await screen.findByTestId('up-next-countdown');
    expect(vi.getTimerCount(), 'the countdown timer runs while shown').toBeGreaterThan(0);
    unmount();
    expect(vi.getTimerCount(), 'no timer is left behind').toBe(0);
  });
});
