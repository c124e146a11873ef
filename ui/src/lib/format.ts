// Dates and times as the user reads them: in the user's zone, grouped by day. Pure functions, unit tested.
import type { EventView } from '../ipc/backend';
import type { TimeFormat } from '../ipc/bindings/TimeFormat';
import type { WeekStart } from '../ipc/bindings/WeekStart';

export interface DayGroup {
  /** yyyy-mm-dd in the display zone. */
  key: string;
  label: string;
  events: EventView[];
}

/** The parts of `d` in `timeZone`, read with formatToParts: a locale's own pattern (en-CA's yyyy-mm-dd, say)
 * differs between ICU builds, and WebKitGTK's differs from Node's. */
function partsIn(d: Date, timeZone: string | undefined, withTime: boolean): Record<string, string> {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' as const } : {}),
  }).formatToParts(d);
  const out: Record<string, string> = {};
  for (const p of parts) out[p.type] = p.value;
  return out;
}

function dayKey(d: Date, timeZone?: string): string {
  const p = partsIn(d, timeZone, false);
  return `${p.year}-${p.month}-${p.day}`;
}

/** An all-day event's date ("2030-01-07" or the date part of a timestamp) without any zone shift. */
function allDayKey(value: string): string {
  return value.slice(0, 10);
}

/** Events grouped by the day they start in `timeZone` (default: the system zone), in start order. */
export function groupByDay(events: EventView[], timeZone?: string, locale?: string): DayGroup[] {
  const groups = new Map<string, DayGroup>();
  const sorted = [...events].sort(
    (a, b) => startMillis(a) - startMillis(b) || a.id.localeCompare(b.id),
  );
  for (const ev of sorted) {
    const key = ev.all_day ? allDayKey(ev.start_time) : dayKey(new Date(ev.start_time), timeZone);
    let group = groups.get(key);
    if (!group) {
      const [y, m, d] = key.split('-').map(Number);
      const label = new Intl.DateTimeFormat(locale, {
        weekday: 'long',
        month: 'long',
        day: 'numeric',
        year: 'numeric',
        timeZone: 'UTC',
      }).format(new Date(Date.UTC(y, m - 1, d, 12)));
      group = { key, label, events: [] };
      groups.set(key, group);
    }
    group.events.push(ev);
  }
  return [...groups.values()];
}

function startMillis(ev: EventView): number {
  const t = Date.parse(ev.start_time);
  return Number.isNaN(t) ? 0 : t;
}

/** The Intl options for a time of day in the user's chosen format. `hourCycle`, not `hour12`: `hour12: false`
 * gives "24:00" for midnight in some locales. "auto" leaves the clock to the locale. */
export function timeOfDayOptions(format: TimeFormat = 'auto'): Intl.DateTimeFormatOptions {
  if (format === 'h24') return { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (format === 'h12') return { hour: 'numeric', minute: '2-digit', hourCycle: 'h12' };
  return { hour: '2-digit', minute: '2-digit' };
}

/** The calendar grid's `firstDay` (0 = Sunday) for a week start. */
export function firstDayOf(weekStart: WeekStart): 0 | 1 | 6 {
  return weekStart === 'sunday' ? 0 : weekStart === 'saturday' ? 6 : 1;
}

/** "09:00 – 09:30" (or "9:00 AM – 9:30 AM" in 12-hour format), or "All day". */
export function timeRange(ev: EventView, timeZone?: string, locale?: string, format: TimeFormat = 'auto'): string {
  if (ev.all_day) return 'All day';
  const fmt = new Intl.DateTimeFormat(locale, { ...timeOfDayOptions(format), timeZone });
  const start = new Date(ev.start_time);
  const end = new Date(ev.end_time);
  if (Number.isNaN(start.getTime())) return ev.start_time;
  if (Number.isNaN(end.getTime())) return fmt.format(start);
  return `${fmt.format(start)} – ${fmt.format(end)}`;
}

/** A timestamp as the value of an <input type="datetime-local"> in `timeZone`: "2030-01-07T09:00". */
export function toLocalInput(iso: string, timeZone?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso.slice(0, 16);
  const p = partsIn(d, timeZone, true);
  // Some engines write midnight as 24 even with h23.
  const hour = p.hour === '24' ? '00' : p.hour;
  return `${p.year}-${p.month}-${p.day}T${hour}:${p.minute}`;
}

/** The next whole hour from `now`, and half an hour later, as datetime-local values in the system zone. */
export function defaultSlot(now: Date = new Date()): { start: string; end: string } {
  const start = new Date(now);
  start.setMinutes(0, 0, 0);
  start.setHours(start.getHours() + 1);
  const end = new Date(start.getTime() + 30 * 60 * 1000);
  const local = (d: Date) => {
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  };
  return { start: local(start), end: local(end) };
}

/** The system's IANA zone, as the form's default. */
export function systemZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** "45 min", "1 h", "1 h 5 min": a duration in whole minutes, rounded up so that "in 1 min" never means "now". */
function minutesText(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** How far a meeting is from `now` (all in epoch milliseconds): "in 4 min", "in 1 h 5 min",
 * "Now · 12 min left", or "Ended". */
export function countdown(start: number, end: number, now: number): string {
  if (now < start) return `in ${minutesText(start - now)}`;
  if (now < end) return `Now · ${minutesText(end - now)} left`;
  return 'Ended';
}

// The names of the most common platforms. The full table is the core's (src/detect/platforms.rs); until the
// core sends display names with events, other ids are shown tidied ("ringcentral_video" → "Ringcentral video").
const PLATFORM_NAMES: Record<string, string> = {
  google_meet: 'Google Meet',
  zoom: 'Zoom',
  teams: 'Microsoft Teams',
  webex: 'Webex',
  gotomeeting: 'GoTo Meeting',
  jitsi: 'Jitsi Meet',
  whereby: 'Whereby',
  chime: 'Amazon Chime',
  slack_huddle: 'Slack huddle',
  skype: 'Skype',
  facetime: 'FaceTime',
};

/** A meeting platform's id as a reader expects it: "google_meet" → "Google Meet". */
export function platformName(id: string): string {
  const known = PLATFORM_NAMES[id];
  if (known) return known;
  const words = id.replace(/_/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Where the day and week views open: an hour before `now`, so the current time and what comes next are in sight
 * (the calendar library would open at 06:00, hiding an evening meeting below the fold). */
export function scrollTimeFor(now: Date): string {
  return `${String(Math.max(0, now.getHours() - 1)).padStart(2, '0')}:00:00`;
}

/** How long ago `iso` was, as a sync status reads it: "just now", "5 min ago", "3 h ago", "2 days ago". A time
 * in the future (a clock moved back) reads "just now". */
export function ago(iso: string, now: number): string {
  const minutes = Math.floor((now - Date.parse(iso)) / 60_000);
  if (!Number.isFinite(minutes) || minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  return days === 1 ? '1 day ago' : `${days} days ago`;
}
