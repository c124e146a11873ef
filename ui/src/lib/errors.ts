// Where a core error belongs in the event form. The core names the field; older codes without one map here.
import type { CoreError, ErrorCode } from '../ipc/backend';

export type FormField =
  | 'title'
  | 'start'
  | 'end'
  | 'time_zone'
  | 'color'
  | 'repeat'
  | 'calendar'
  | 'location'
  | 'description'
  | 'url';

const BY_CODE: Partial<Record<ErrorCode, FormField>> = {
  title_required: 'title',
  title_too_long: 'title',
  invalid_start: 'start',
  start_in_past: 'start',
  invalid_end: 'end',
  end_before_start: 'end',
  invalid_color: 'color',
  unknown_time_zone: 'time_zone',
  invalid_rrule: 'repeat',
};

const FIELDS: readonly string[] = [
  'title', 'start', 'end', 'time_zone', 'color', 'repeat', 'calendar', 'location', 'description', 'url',
];

/** The form field an error is about, or null when it belongs at the top of the form. */
export function fieldOf(e: CoreError): FormField | null {
  if (e.field) {
    const f = e.field === 'rrule' ? 'repeat' : e.field === 'tz' ? 'time_zone' : e.field;
    if (FIELDS.includes(f)) return f as FormField;
  }
  return BY_CODE[e.code] ?? null;
}
