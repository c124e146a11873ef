// An in-memory Backend for unit tests: records calls, returns canned data, and rejects with core errors.
import type { Backend, CalendarView, CoreError, EventInput, EventView } from './backend';

export interface MockBackend extends Backend {
  events: EventView[];
  calendarList: CalendarView[];
  /** The next createEvent/editEvent rejects with this error. */
  nextError: CoreError | null;
  created: EventInput[];
  /** Simulates a write by another process. */
  emitChange(): void;
}

export function sampleEvent(overrides: Partial<EventView> = {}): EventView {
  return {
    id: 'ev1',
    title: 'Standup',
    start_time: '2030-01-07T09:00:00+00:00',
    end_time: '2030-01-07T09:15:00+00:00',
    all_day: false,
    time_zone: 'UTC',
    calendar_id: 'local',
    connection_id: 'local',
    platform: 'local',
    platform_id: null,
    ical_uid: 'ev1@punctual',
    series_id: null,
    original_start: null,
    meeting_platform: null,
    meeting_url: null,
    location: null,
    description: null,
    url: null,
    color: '#6CD9FF',
    availability: 'busy',
    repeat: null,
    created_at: '2030-01-01T00:00:00Z',
    updated_at: '2030-01-01T00:00:00Z',
    is_deleted: false,
    joins: [],
    raw: null,
    ...overrides,
  };
}

export function mockBackend(events: EventView[] = []): MockBackend {
  const handlers = new Set<() => void>();
  const mock: MockBackend = {
    events: [...events],
    calendarList: [],
    nextError: null,
    created: [],
    emitChange: () => handlers.forEach((h) => h()),
    listEvents: async () => ({
      events: mock.events,
      has_more: false,
      next_cursor: null,
      previous_cursor: null,
    }),
    createEvent: async (input) => {
      if (mock.nextError) {
        const e = mock.nextError;
        mock.nextError = null;
        throw e;
      }
      mock.created.push(input);
      const ev = sampleEvent({
        id: `ev${mock.events.length + 1}`,
        title: input.title ?? '',
        start_time: input.start ?? '',
        end_time: input.end ?? '',
      });
      mock.events.push(ev);
      return ev;
    },
    editEvent: async (id) => {
      if (mock.nextError) {
        const e = mock.nextError;
        mock.nextError = null;
        throw e;
      }
      const ev = mock.events.find((e) => e.id === id);
      if (!ev) throw { code: 'not_found', message: `no event with id ${id}`, field: null };
      return ev;
    },
    deleteEvent: async (id) => {
      mock.events = mock.events.filter((e) => e.id !== id);
    },
    calendars: async () => mock.calendarList,
    importIcs: async () => ({ calendar_id: 'local', created: 0, updated: 0, skipped: 0, warnings: [] }),
    exportIcs: async () => 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n',
    dataDir: async () => '/tmp/punctual-test',
    onChange: async (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  };
  return mock;
}
