import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { mockBackend, sampleEvent } from '../ipc/mock';
import EventDetails from './EventDetails.svelte';

describe('EventDetails Join', () => {
  it('joins through the backend and says what it opened', async () => {
    const backend = mockBackend([
      sampleEvent({ id: 'm1', meeting_url: 'https://meet.google.com/abc-defg-hij', meeting_platform: 'google_meet' }),
    ]);
    const event = backend.events[0];
    render(EventDetails, { event, onedit: () => {}, onclose: () => {}, onjoin: (ev) => backend.joinEvent(ev.id) });
    await fireEvent.click(screen.getByTestId('details-join'));
    expect(await screen.findByTestId('details-join-status')).toHaveTextContent('Opened Google Meet');
    expect(backend.joined, 'the event id goes to the core, which alone opens links').toEqual(['m1']);
  });

  it("shows the core's error when the join is refused", async () => {
    const event = sampleEvent({ id: 'm2', meeting_url: 'https://meet.google.com/abc-defg-hij' });
    const onjoin = async () => {
      throw { code: 'unsafe_link', message: 'the link was not opened: not https', field: null };
    };
    render(EventDetails, { event, onedit: () => {}, onclose: () => {}, onjoin });
    await fireEvent.click(screen.getByTestId('details-join'));
    expect(await screen.findByTestId('details-join-status')).toHaveTextContent('the link was not opened');
  });

  it('offers no Join for an event without a meeting link', () => {
    const event = sampleEvent({ id: 'm3', meeting_url: null });
    render(EventDetails, { event, onedit: () => {}, onclose: () => {}, onjoin: async () => Promise.reject(new Error('unused')) });
    expect(screen.queryByTestId('details-join'), 'nothing to join without a link').toBeNull();
  });
});
