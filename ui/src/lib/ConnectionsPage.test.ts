import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { CalendarView } from '../ipc/backend';
import { defaultJoinRules, mockBackend, sampleConnection } from '../ipc/mock';
import ConnectionsPage from './ConnectionsPage.svelte';

function calendar(overrides: Partial<CalendarView>): CalendarView {
  return {
    id: 'local',
    connection_id: 'local',
    name: 'Local',
    color: '#6CD9FF',
    is_primary: true,
    selected: true,
    read_only: false,
    event_count: 0,
    ...overrides,
  };
}

const ICS = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n';

describe('ConnectionsPage', () => {
  it('lists each calendar with its colour, name and event count', async () => {
    const backend = mockBackend();
    backend.calendarList = [
      calendar({ event_count: 1 }),
      calendar({ id: 'cal-2', name: 'Team <b>holidays</b>', color: '#ff8800', is_primary: false, event_count: 12 }),
    ];
    const { container } = render(ConnectionsPage, { backend });
    const rows = await screen.findAllByTestId('calendar-row');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('Local');
    expect(within(rows[0]).getByTestId('calendar-count')).toHaveTextContent('1 event');
    expect(rows[1], 'a calendar name is text, not HTML').toHaveTextContent('Team <b>holidays</b>');
    expect(within(rows[1]).getByTestId('calendar-count')).toHaveTextContent('12 events');
    expect((rows[1].querySelector('.dot') as HTMLElement).style.background, 'each calendar shows its colour').toBe(
      'rgb(255, 136, 0)',
    );
    expect(container.querySelector('b')).toBeNull();
  });

  it('imports a chosen .ics file into the named calendar and shows the report', async () => {
    const backend = mockBackend();
    const calls: [string, string | null][] = [];
    backend.importIcs = async (text, name) => {
      calls.push([text, name]);
      backend.calendarList = [calendar({ event_count: 0 }), calendar({ id: 'cal-team', name: 'Team', is_primary: false, event_count: 3 })];
      return { calendar_id: 'cal-team', created: 3, updated: 1, skipped: 2, warnings: ['line 14: unknown TZID Mars/Base'] };
    };
    render(ConnectionsPage, { backend });
    await fireEvent.input(await screen.findByLabelText('Import into'), { target: { value: 'Team' } });
    const file = new File([ICS], 'team.ics', { type: 'text/calendar' });
    await fireEvent.change(screen.getByTestId('connections-import-file'), { target: { files: [file] } });

    const report = await screen.findByTestId('import-report');
    expect(calls, 'the file text goes to the core with the calendar name').toEqual([[ICS, 'Team']]);
    expect(report).toHaveTextContent('Imported team.ics into Team: 3 new, 1 updated, 2 skipped.');
    expect(within(report).getByTestId('import-warnings')).toHaveTextContent('line 14: unknown TZID Mars/Base');
    expect(await screen.findByText('3 events'), 'the list refreshes after an import').toBeInTheDocument();
  });

  it('imports into the local calendar when no name is given', async () => {
    const backend = mockBackend();
    const names: (string | null)[] = [];
    backend.importIcs = async (_text, name) => {
      names.push(name);
      return { calendar_id: 'local', created: 0, updated: 0, skipped: 0, warnings: [] };
    };
    render(ConnectionsPage, { backend });
    const file = new File([ICS], 'empty.ics');
    await fireEvent.change(await screen.findByTestId('connections-import-file'), { target: { files: [file] } });
    await screen.findByTestId('import-report');
    expect(names).toEqual([null]);
    expect(screen.queryByTestId('import-warnings'), 'no warnings, no warning list').toBeNull();
  });

  it("shows the core's error for a file that is not iCalendar", async () => {
    const backend = mockBackend();
    backend.importIcs = async () => {
      throw { code: 'not_icalendar', message: 'the input is not iCalendar data (no BEGIN:VCALENDAR)', field: null };
    };
    render(ConnectionsPage, { backend });
    const file = new File(['hello'], 'notes.txt');
    await fireEvent.change(await screen.findByTestId('connections-import-file'), { target: { files: [file] } });
    const error = await screen.findByTestId('import-error');
    expect(error).toHaveTextContent('notes.txt: the input is not iCalendar data (no BEGIN:VCALENDAR)');
    expect(screen.queryByTestId('import-report'), 'a failed import reports no counts').toBeNull();
  });

  it('the Import .ics button opens the file dialog', async () => {
    render(ConnectionsPage, { backend: mockBackend() });
    const input = (await screen.findByTestId('connections-import-file')) as HTMLInputElement;
    let opened = 0;
    input.addEventListener('click', () => opened++);
    await fireEvent.click(screen.getByRole('button', { name: 'Import .ics' }));
    expect(opened, 'the button clicks the file input').toBe(1);
  });

  it("lists an account's calendars under the account, not with the calendars on this computer", async () => {
    const backend = mockBackend();
    backend.connectionList = [
      sampleConnection({ id: 'local', provider: 'local', account_email: null, calendars: [] }),
      sampleConnection(),
    ];
    backend.calendarList = [
      calendar({ event_count: 2 }),
      calendar({ id: 'cal-g1', connection_id: 'conn-1', name: 'Jane Doe', is_primary: true, event_count: 40 }),
    ];
    render(ConnectionsPage, { backend });
    const account = await screen.findByTestId('account');
    await waitFor(() => expect(screen.getAllByTestId('calendar-row'), 'only the local calendar is "on this computer"').toHaveLength(1));
    expect(within(account).getByTestId('account-email')).toHaveTextContent('jane@acme.example');
    expect(within(account).getAllByTestId('account-calendar')[0], 'the count comes from the calendar list').toHaveTextContent(
      '40 events',
    );
  });

  it('turns join reminders off for one calendar, keeping every other rule', async () => {
    const backend = mockBackend();
    backend.calendarList = [calendar({}), calendar({ id: 'cal-2', name: 'Holidays', is_primary: false })];
    backend.storedRules = {
      ...defaultJoinRules(),
      lead_minutes: 4,
      calendars: { 'cal-2': { enabled: true, lead_minutes: 2, auto_join: null } },
    };
    render(ConnectionsPage, { backend });
    const switches = await screen.findAllByTestId('calendar-reminders');
    expect(switches.map((s) => (s as HTMLInputElement).checked), 'on unless a calendar rule says off').toEqual([true, true]);
    await fireEvent.click(screen.getByLabelText('Reminders for Holidays'));
    await vi.waitFor(() => expect(backend.storedRules.calendars['cal-2']?.enabled).toBe(false));
    expect(backend.storedRules.calendars['cal-2']?.lead_minutes, "the calendar's other override stays").toBe(2);
    expect(backend.storedRules.lead_minutes, 'the global rules stay').toBe(4);
    expect(backend.storedRules.calendars.local, 'the other calendar is untouched').toBeUndefined();
  });

  it("stores a calendar's own reminder time", async () => {
    const backend = mockBackend();
    backend.calendarList = [calendar({})];
    render(ConnectionsPage, { backend });
    await fireEvent.change(await screen.findByLabelText('Reminder time for Local'), { target: { value: '10' } });
    await vi.waitFor(() =>
      expect(backend.storedRules.calendars.local).toEqual({ enabled: true, lead_minutes: 10, auto_join: null }),
    );
  });

  it('shows a refused reminders change beside its calendar and puts the switch back', async () => {
    const backend = mockBackend();
    backend.calendarList = [calendar({})];
    render(ConnectionsPage, { backend });
    const toggle = (await screen.findByLabelText('Reminders for Local')) as HTMLInputElement;
    backend.nextError = { code: 'storage', message: 'database is locked', field: null };
    await fireEvent.click(toggle);
    expect(await screen.findByTestId('calendar-reminders-error')).toHaveTextContent('database is locked');
    expect(toggle.checked, 'the switch shows what is stored').toBe(true);
    expect(backend.storedRules.calendars, 'nothing stored').toEqual({});
  });
});
