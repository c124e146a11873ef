import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import App from './App.svelte';
import { mockBackend, sampleEvent } from './ipc/mock';

const XSS = '<img src=x onerror=alert(1)>';

describe('App', () => {
  it('shows the first-run empty state when there are no events', async () => {
    render(App, { backend: mockBackend() });
    const empty = await screen.findByTestId('empty-state');
    for (const label of ['Create an event', 'Import .ics', 'Connect a calendar']) {
      expect(within(empty).getByRole('button', { name: label }), `the empty state offers "${label}"`).toBeInTheDocument();
    }
  });

  it('lists events in the agenda', async () => {
    render(App, { backend: mockBackend([sampleEvent({ title: 'Design review', location: 'Room 4' })]) });
    expect(await screen.findByText('Design review')).toBeInTheDocument();
    expect(screen.getByText('Room 4')).toBeInTheDocument();
    expect(screen.queryByTestId('empty-state'), 'no empty state when there are events').toBeNull();
  });

  it('renders event text as text, never as HTML', async () => {
    const { container } = render(App, {
      backend: mockBackend([sampleEvent({ title: XSS, location: XSS, description: XSS })]),
    });
    const titles = await screen.findAllByText(XSS);
    expect(titles.length, 'title, location and description each appear as literal text').toBe(3);
    expect(container.querySelector('img'), 'no <img> element may be created from event text').toBeNull();
  });

  it('shows the core error when events cannot load', async () => {
    const backend = mockBackend();
    backend.listEvents = async () => {
      throw { code: 'internal', message: 'not yet', field: null };
    };
    render(App, { backend });
    expect(await screen.findByTestId('load-error')).toHaveTextContent('not yet');
    expect(screen.queryByTestId('empty-state'), 'an error is not the same as an empty calendar').toBeNull();
  });

  it('refreshes when the shell reports a change', async () => {
    const backend = mockBackend();
    render(App, { backend });
    await screen.findByTestId('empty-state');
    backend.events.push(sampleEvent({ title: 'From the CLI' }));
    backend.emitChange();
    expect(await screen.findByText('From the CLI'), 'a change event must refresh the agenda').toBeInTheDocument();
  });

  it('creates an event through the form and shows it', async () => {
    const backend = mockBackend();
    render(App, { backend });
    await fireEvent.click(await screen.findByRole('button', { name: 'Create an event' }));
    await fireEvent.input(screen.getByLabelText('Title'), { target: { value: 'Lunch' } });
    await fireEvent.click(screen.getByTestId('save-event'));
    await waitFor(() => expect(screen.queryByTestId('event-form'), 'the form closes after a save').toBeNull());
    expect(await screen.findByText('Lunch')).toBeInTheDocument();
    expect(backend.created[0].title).toBe('Lunch');
  });
});

describe('event details', () => {
  it('opens on click, shows every text as text, and leads to the edit form', async () => {
    const ev = sampleEvent({
      title: 'Board <b>meeting</b>',
      location: 'HQ',
      description: 'Line one\n<script>alert(1)</script>',
      time_zone: 'Asia/Tokyo',
    });
    const { container } = render(App, { backend: mockBackend([ev]) });
    await fireEvent.click(await screen.findByText('Board <b>meeting</b>'));
    const details = await screen.findByTestId('event-details');
    expect(within(details).getByRole('heading')).toHaveTextContent('Board <b>meeting</b>');
    expect(within(details).getByTestId('details-description').textContent).toContain('<script>alert(1)</script>');
    expect(container.querySelector('b, script'), 'no element may be created from event text').toBeNull();
    expect(within(details).getByTestId('details-own-zone'), "the event's own zone is shown when it differs").toHaveTextContent(
      'Asia/Tokyo',
    );
    await fireEvent.click(within(details).getByTestId('details-edit'));
    expect(await screen.findByTestId('event-form')).toBeInTheDocument();
    expect(screen.getByLabelText('Title')).toHaveValue('Board <b>meeting</b>');
  });
});

describe('an empty window with events elsewhere', () => {
  it('is not the first-run empty state', async () => {
    const backend = mockBackend();
    backend.calendarList = [
      { id: 'local', connection_id: 'local', name: 'Local', color: '#6CD9FF', is_primary: true, selected: true, read_only: false, event_count: 3 },
    ];
    render(App, { backend });
    expect(await screen.findByTestId('agenda-empty')).toBeInTheDocument();
    expect(screen.queryByTestId('empty-state'), 'events exist, just not in the next four weeks').toBeNull();
  });
});
