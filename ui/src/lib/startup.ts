// What the first screen (the agenda and "Up next") reads from the core, in one place: main.ts starts these
// reads before mounting (ipc/prefetch.ts), and the components make the same calls, which the prefetch answers.
import type { StartupCall } from '../ipc/prefetch';
import type { ListQuery } from '../ipc/backend';

/** The agenda's first window: the core's default (now − 1 day to now + 28 days), every event, first page. */
export const FIRST_AGENDA_QUERY: ListQuery = { from: null, to: null, calendars: [], all: true, limit: null, cursor: null };

/** "Up next" fetches twice the 24 hours it shows (see UpNext.svelte), at most this many meetings. */
export const UP_NEXT_FETCH_HOURS = 48;
export const UP_NEXT_LIMIT = 5;

export const STARTUP_CALLS: StartupCall[] = [
  { method: 'listEvents', args: [FIRST_AGENDA_QUERY] },
  { method: 'calendars', args: [] },
  { method: 'settings', args: [] },
  { method: 'upcomingMeetings', args: [UP_NEXT_FETCH_HOURS, UP_NEXT_LIMIT] },
];
