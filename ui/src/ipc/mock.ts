// An in-memory Backend for unit tests: records calls, returns canned data, and rejects with core errors.
import type {
  Backend,
  CalendarView,
  ConflictView,
  Connection,
  CoreError,
  EventInput,
  EventView,
  ClientView,
  JoinRules,
  NextMeeting,
  ProviderSlug,
  Settings,
  SyncActivity,
} from './backend';

export interface MockBackend extends Backend {
  events: EventView[];
  calendarList: CalendarView[];
  storedSettings: Settings;
  storedRules: JoinRules;
  upcoming: NextMeeting[];
  /** Every target passed to joinEvent, in order. */
  joined: string[];
  /** The next createEvent/editEvent rejects with this error. */
  nextError: CoreError | null;
  created: EventInput[];
  /** Simulates a write by another process. */
  emitChange(): void;
  connectionList: Connection[];
  storedSyncMinutes: number;
  /** The stored OAuth client of each provider. */
  storedClients: Partial<Record<ProviderSlug, ClientView>>;
  /** What connectAccount resolves with; the call waits until `finishConnect` when null. */
  nextConnection: Connection | null;
  /** Ends a waiting connectAccount: with the connection, or rejects with the error. */
  finishConnect(result: Connection | CoreError): void;
  /** Every call to the account commands, in order (e.g. `connect:google`, `sync:conn-1`,
   * `select:conn-1:cal-1:false`, `token:microsoft:RT:CLIENT:SECRET:TENANT`). */
  accountCalls: string[];
  /** Simulates one step of a sync reported by the shell. */
  emitActivity(activity: SyncActivity): void;
  /** What `conflicts` answers; `dismissConflict` removes from it (a call is recorded as `dismiss:ID`). */
  conflictList: ConflictView[];
  /** While set, `conflicts` rejects with it. */
  conflictsError: CoreError | null;
  /** How many times the log folder was opened. */
  logFolderOpened: number;
  /** While set, `openLogFolder` rejects with it. */
  openFolderError: CoreError | null;
}

export function sampleConnection(overrides: Partial<Connection> = {}): Connection {
  return {
    id: 'conn-1',
    provider: 'google_calendar',
    account_email: 'jane@acme.example',
    user_name: 'Jane Doe',
    state: 'connected',
    connection_failure_data: null,
    last_sync_at: '2030-01-07T08:55:00Z',
    event_count: 42,
    calendars: [
      {
        id: 'cal-g1',
        remote_id: 'jane@acme.example',
        summary: 'Jane Doe',
        description: null,
        is_primary: true,
        access_role: 'owner',
        writable: true,
        time_zone: 'Europe/Berlin',
        background_color: '#0b8043',
        foreground_color: '#ffffff',
        selected: true,
      },
      {
        id: 'cal-g2',
        remote_id: 'team@group.calendar.google.com',
        summary: 'Team',
        description: null,
        is_primary: false,
        access_role: 'reader',
        writable: false,
        time_zone: 'Europe/Berlin',
        background_color: '#f6bf26',
        foreground_color: null,
        selected: false,
      },
    ],
    primary_calendar_id: 'cal-g1',
    metadata: {},
    deduplication_key: 'google_calendar:jane@acme.example',
    created_at: '2030-01-01T00:00:00Z',
    updated_at: '2030-01-07T08:55:00Z',
    ...overrides,
  };
}

export function sampleConflict(overrides: Partial<ConflictView> = {}): ConflictView {
  return {
    id: 1,
    connection_id: 'conn-1',
    calendar_id: 'cal-g1',
    calendar_name: 'Jane Doe',
    event_id: 'ev-review',
    title: 'Review, my version',
    change: 'update',
    message:
      "the event changed at the provider since Punctual read it, so this change was not applied; the provider's version stands",
    changed_at: '2030-01-07T08:40:00Z',
    ...overrides,
  };
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

export function defaultSettings(): Settings {
  return {
    theme: 'system',
    week_start: 'monday',
    time_format: 'auto',
    start_at_login: false,
    join_shortcut: null,
  };
}

export function defaultJoinRules(): JoinRules {
  return {
    lead_minutes: 1,
    early_reminder_minutes: null,
    plan_for: 'meetings',
    skip_declined: true,
    skip_all_day: true,
    skip_free: true,
    auto_join: false,
    nag: false,
    open_native: true,
    horizon_hours: 48,
    calendars: {},
    events: {},
  };
}

/** Takes the pending error, if any, so one call fails and the next succeeds. */
function takeError(mock: MockBackend): void {
  if (mock.nextError) {
    const e = mock.nextError;
    mock.nextError = null;
    throw e;
  }
}

export function mockBackend(events: EventView[] = []): MockBackend {
  const handlers = new Set<() => void>();
  const activityHandlers = new Set<(a: SyncActivity) => void>();
  let pendingConnect: ((r: Connection | CoreError) => void) | null = null;
  const mock: MockBackend = {
    events: [...events],
    calendarList: [],
    storedSettings: defaultSettings(),
    storedRules: defaultJoinRules(),
    upcoming: [],
    joined: [],
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
    logFolder: async () => '/home/jo/.local/state/punctual/logs',
    openLogFolder: async () => {
      if (mock.openFolderError) throw mock.openFolderError;
      mock.logFolderOpened += 1;
    },
    settings: async () => mock.storedSettings,
    updateSettings: async (settings) => {
      takeError(mock);
      mock.storedSettings = { ...settings };
      return mock.storedSettings;
    },
    joinRules: async () => mock.storedRules,
    setJoinRules: async (rules) => {
      takeError(mock);
      mock.storedRules = { ...rules };
    },
    upcomingMeetings: async (_hours, limit) => mock.upcoming.slice(0, limit),
    joinEvent: async (target) => {
      takeError(mock);
      const ev = target === 'next' ? mock.upcoming[0]?.event : mock.events.find((e) => e.id === target);
      if (!ev) throw { code: 'not_found', message: `no event with id ${target}`, field: null };
      if (!ev.meeting_url) throw { code: 'no_meeting_link', message: `${ev.title} has no meeting link`, field: null };
      mock.joined.push(target);
      return { occurrence_id: ev.id, title: ev.title, platform: ev.meeting_platform ?? 'web', opened: ev.meeting_url, native: false };
    },
    connectionList: [],
    storedSyncMinutes: 5,
    storedClients: {},
    oauthClient: async (provider) => mock.storedClients[provider] ?? null,
    setOAuthClient: async (provider, clientId, clientSecret) => {
      // Google's calls are recorded as `client:ID:SECRET`, every other provider's as `client:PROVIDER:ID:SECRET`.
      mock.accountCalls.push(`client:${provider === 'google' ? '' : `${provider}:`}${clientId}:${clientSecret ?? ''}`);
      takeError(mock);
      if (!clientId.trim()) throw { code: 'invalid_input', message: `the ${provider} OAuth client_id must not be empty`, field: 'client_id' };
      const stored = { client_id: clientId.trim(), client_secret_set: !!clientSecret };
      mock.storedClients[provider] = stored;
      return stored;
    },
    syncInterval: async () => mock.storedSyncMinutes,
    setSyncInterval: async (minutes) => {
      mock.accountCalls.push(`interval:${minutes}`);
      takeError(mock);
      mock.storedSyncMinutes = minutes;
    },
    nextConnection: null,
    accountCalls: [],
    finishConnect: (result) => pendingConnect?.(result),
    emitActivity: (a) => activityHandlers.forEach((h) => h(a)),
    connections: async () => mock.connectionList,
    connectAccount: async (provider) => {
      mock.accountCalls.push(`connect:${provider}`);
      takeError(mock);
      const result =
        mock.nextConnection ?? (await new Promise<Connection | CoreError>((resolve) => (pendingConnect = resolve)));
      pendingConnect = null;
      if (!('id' in result)) throw result;
      mock.connectionList = [...mock.connectionList.filter((c) => c.id !== result.id), result];
      return result;
    },
    cancelConnect: async () => {
      mock.accountCalls.push('cancel');
      pendingConnect?.({ code: 'cancelled', message: 'connecting was cancelled; nothing was saved', field: null });
    },
    connectAccountToken: async (provider, refreshToken, clientId, clientSecret, tenant) => {
      mock.accountCalls.push(`token:${provider}:${refreshToken}:${clientId}:${clientSecret ?? ''}:${tenant ?? ''}`);
      takeError(mock);
      const c =
        mock.nextConnection ??
        sampleConnection(provider === 'microsoft' ? { id: 'conn-ms', provider: 'outlook_calendar', account_email: 'jane@contoso.example' } : {});
      // The same account connected again is the same connection, as the core dedupes it.
      mock.connectionList = [...mock.connectionList.filter((x) => x.id !== c.id), c];
      return c;
    },
    syncNow: async (id) => {
      mock.accountCalls.push(`sync:${id ?? 'all'}`);
      takeError(mock);
      return [];
    },
    selectCalendar: async (connectionId, calendarId, selected) => {
      mock.accountCalls.push(`select:${connectionId}:${calendarId}:${selected}`);
      takeError(mock);
      const conn = mock.connectionList.find((c) => c.id === connectionId);
      if (!conn) throw { code: 'not_found', message: `no connection with id ${connectionId}`, field: 'connection' };
      conn.calendars = conn.calendars.map((c) => (c.id === calendarId ? { ...c, selected } : c));
      return conn;
    },
    disconnect: async (id) => {
      mock.accountCalls.push(`disconnect:${id}`);
      takeError(mock);
      mock.connectionList = mock.connectionList.filter((c) => c.id !== id);
    },
    conflictList: [],
    conflictsError: null,
    logFolderOpened: 0,
    openFolderError: null,
    // Not `nextError`: pages list conflicts on every refresh, which would take an error meant for the action.
    conflicts: async () => {
      if (mock.conflictsError) throw mock.conflictsError;
      return mock.conflictList;
    },
    dismissConflict: async (id) => {
      mock.accountCalls.push(`dismiss:${id}`);
      takeError(mock);
      if (!mock.conflictList.some((c) => c.id === id)) throw { code: 'not_found', message: `no conflict with id ${id}`, field: null };
      mock.conflictList = mock.conflictList.filter((c) => c.id !== id);
    },
    onSyncActivity: async (handler) => {
      activityHandlers.add(handler);
      return () => activityHandlers.delete(handler);
    },
    onChange: async (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  };
  return mock;
}
