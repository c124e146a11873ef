import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import App from './App.svelte';
import { defaultSettings, mockBackend, sampleConflict, sampleConnection, sampleEvent } from './ipc/mock';

const XSS = '<img src=x onerror=alert(1)>';

describe('App', () => {
  it('counts refused changes on the Connections tab from any page, until they are dismissed', async () => {
    const backend = mockBackend();
    backend.connectionList = [sampleConnection()];
    render(App, { backend });
    await screen.findByTestId('empty-state');
    expect(screen.queryByTestId('nav-conflicts'), 'no conflicts, no count').toBeNull();

    // A sync (another connection) refused two changes: its writes arrive as a change event.
    backend.conflictList = [sampleConflict({ id: 1 }), sampleConflict({ id: 2, title: 'Retro' })];
    backend.emitChange();
    const count = await screen.findByTestId('nav-conflicts');
    expect(count, 'seen from the calendar page, where the user is').toHaveTextContent('2');
    expect(screen.getByTestId('nav-connections'), 'and read out with what it counts').toHaveAccessibleName('Connections (2 changes not applied)');

    // The window's own dismiss does not echo back as a change event: the count follows it all the same.
    await fireEvent.click(screen.getByTestId('nav-connections'));
    const [first] = await screen.findAllByTestId('conflict-dismiss');
    await fireEvent.click(first);
    await waitFor(() => expect(screen.getByTestId('nav-conflicts')).toHaveTextContent('1'));
    await waitFor(() => expect(screen.getAllByTestId('conflict-dismiss')).toHaveLength(1));
    await fireEvent.click(screen.getByTestId('conflict-dismiss'));
    await waitFor(() => expect(screen.queryByTestId('nav-conflicts'), 'all seen: the count goes').toBeNull());
  });

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

describe('navigation', () => {
  it('moves between Calendar, Connections and Settings, and the calendar keeps its view', async () => {
    render(App, { backend: mockBackend([sampleEvent({ title: 'Standup' })]) });
    await screen.findByTestId('agenda');
    expect(screen.getByTestId('nav-calendar')).toHaveAttribute('aria-current', 'page');
    await fireEvent.click(screen.getByTestId('view-w'));

    await fireEvent.click(screen.getByTestId('nav-connections'));
    expect(await screen.findByRole('heading', { name: 'Connections' })).toBeInTheDocument();
    expect(screen.getByTestId('nav-connections')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByTestId('nav-calendar'), 'only one page is current').not.toHaveAttribute('aria-current');
    expect(screen.queryByTestId('calendar-grid'), 'the calendar is not shown under Connections').toBeNull();

    await fireEvent.click(screen.getByTestId('nav-settings'));
    expect(await screen.findByTestId('settings-form')).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Connections' })).toBeNull();

    await fireEvent.click(screen.getByTestId('nav-calendar'));
    expect(await screen.findByTestId('calendar-grid'), 'back in the week view it was left in').toBeInTheDocument();
    expect(screen.getByTestId('view-w')).toHaveAttribute('aria-pressed', 'true');
  });

  it('"Connect a calendar" on first run opens Connections', async () => {
    render(App, { backend: mockBackend() });
    await fireEvent.click(await screen.findByRole('button', { name: 'Connect a calendar' }));
    expect(await screen.findByRole('button', { name: 'Connect Google' }), 'where accounts are connected').toBeInTheDocument();
    expect(screen.getByTestId('nav-connections')).toHaveAttribute('aria-current', 'page');
  });
});

describe('settings applied to the window', () => {
  afterEach(() => {
    document.documentElement.removeAttribute('data-theme');
    localStorage.clear();
  });

  it('applies the stored theme, and a saved change at once', async () => {
    const backend = mockBackend();
    backend.storedSettings = { ...defaultSettings(), theme: 'dark' };
    render(App, { backend });
    await waitFor(() => expect(document.documentElement).toHaveAttribute('data-theme', 'dark'));
    await fireEvent.click(screen.getByTestId('nav-settings'));
    await fireEvent.change(await screen.findByLabelText('Theme'), { target: { value: 'light' } });
    expect(document.documentElement, 'the picked theme shows before saving').toHaveAttribute('data-theme', 'light');
    await fireEvent.click(screen.getByTestId('settings-save'));
    await screen.findByTestId('settings-saved');
    await fireEvent.click(screen.getByTestId('nav-calendar'));
    expect(document.documentElement, 'the saved theme stays after leaving Settings').toHaveAttribute('data-theme', 'light');
  });

  it('the top bar theme menu applies at once and stores only the theme', async () => {
    const backend = mockBackend();
    backend.storedSettings = { ...defaultSettings(), week_start: 'sunday', time_format: 'h24' };
    render(App, { backend });
    await screen.findByTestId('empty-state');
    await waitFor(() => expect(backend.storedSettings.week_start).toBe('sunday'));
    await fireEvent.change(screen.getByTestId('theme-select'), { target: { value: 'dark' } });
    expect(document.documentElement, 'applied before the core answers').toHaveAttribute('data-theme', 'dark');
    await waitFor(() => expect(backend.storedSettings.theme).toBe('dark'));
    expect(backend.storedSettings, 'the other preferences are kept').toMatchObject({ week_start: 'sunday', time_format: 'h24' });
    expect(localStorage.getItem('punctual.theme'), 'remembered for the first paint of the next start').toBe('dark');
  });

  it('the top bar theme menu puts the stored theme back when the core refuses', async () => {
    const backend = mockBackend();
    render(App, { backend });
    await screen.findByTestId('empty-state');
    backend.nextError = { code: 'storage', message: 'database is locked', field: null };
    await fireEvent.change(screen.getByTestId('theme-select'), { target: { value: 'dark' } });
    expect(await screen.findByTestId('theme-error')).toHaveTextContent('database is locked');
    expect(document.documentElement, 'back to the stored theme').not.toHaveAttribute('data-theme');
    expect(screen.getByTestId('theme-select')).toHaveValue('system');
  });

  it('drops an unsaved theme when Settings is left', async () => {
    render(App, { backend: mockBackend() });
    await fireEvent.click(screen.getByTestId('nav-settings'));
    await fireEvent.change(await screen.findByLabelText('Theme'), { target: { value: 'dark' } });
    expect(document.documentElement).toHaveAttribute('data-theme', 'dark');
    await fireEvent.click(screen.getByTestId('nav-calendar'));
    expect(document.documentElement, 'back to the stored theme (system)').not.toHaveAttribute('data-theme');
  });

  it('shows times in the saved time format', async () => {
    const backend = mockBackend([
      sampleEvent({
        title: 'Evening call',
        start_time: new Date(2030, 0, 7, 21, 0).toISOString(),
        end_time: new Date(2030, 0, 7, 21, 30).toISOString(),
      }),
    ]);
    backend.storedSettings = { ...defaultSettings(), time_format: 'h12' };
    render(App, { backend });
    const row = await screen.findByTestId('agenda-event');
    await waitFor(() => expect(row, '12-hour format from the stored settings').toHaveTextContent(/9:00\s?PM/i));
    await fireEvent.click(screen.getByTestId('nav-settings'));
    await fireEvent.change(await screen.findByLabelText('Time format'), { target: { value: 'h24' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    await screen.findByTestId('settings-saved');
    await fireEvent.click(screen.getByTestId('nav-calendar'));
    expect(await screen.findByTestId('agenda-event'), 'the agenda follows the saved 24-hour format').toHaveTextContent(
      '21:00 – 21:30',
    );
  });
});
