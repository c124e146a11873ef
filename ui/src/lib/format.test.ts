import { describe, expect, it } from 'vitest';
import { sampleEvent } from '../ipc/mock';
import {
  ago,
  countdown,
  defaultSlot,
  firstDayOf,
  groupByDay,
  platformName,
  scrollTimeFor,
  timeRange,
  toLocalInput,
} from './format';

describe('groupByDay', () => {
  it('groups by the day in the display zone and sorts by start', () => {
    const late = sampleEvent({ id: 'b', start_time: '2030-01-07T23:30:00+00:00', end_time: '2030-01-08T00:30:00+00:00' });
    const early = sampleEvent({ id: 'a', start_time: '2030-01-07T09:00:00+00:00' });
    const groups = groupByDay([late, early], 'Europe/Paris', 'en-US');
    expect(groups.map((g) => g.key), '23:30 UTC is already the 8th in Paris').toEqual(['2030-01-07', '2030-01-08']);
    expect(groups[0].label).toBe('Monday, January 7, 2030');
    expect(groups[0].events[0].id, 'earliest first').toBe('a');
  });

  it('keeps an all-day event on its own date whatever the zone', () => {
    const ev = sampleEvent({ all_day: true, start_time: '2030-01-07', end_time: '2030-01-08' });
    expect(groupByDay([ev], 'Pacific/Honolulu')[0].key, 'an all-day date is not an instant').toBe('2030-01-07');
  });
});

describe('timeRange', () => {
  it('shows start and end in the display zone', () => {
    expect(timeRange(sampleEvent(), 'UTC', 'en-GB')).toBe('09:00 – 09:15');
  });
  it('follows the chosen time format', () => {
    const ev = sampleEvent({ start_time: '2030-01-07T21:00:00+00:00', end_time: '2030-01-07T21:30:00+00:00' });
    expect(timeRange(ev, 'UTC', 'en-US', 'h24'), '24-hour format even in a 12-hour locale').toBe('21:00 – 21:30');
    expect(timeRange(ev, 'UTC', 'en-GB', 'h12'), '12-hour format even in a 24-hour locale').toMatch(
      /^9:00\s?pm – 9:30\s?pm$/i,
    );
  });
  it('says All day for all-day events', () => {
    expect(timeRange(sampleEvent({ all_day: true }))).toBe('All day');
  });
});

describe('toLocalInput', () => {
  it('converts an instant to the wall-clock time of the zone', () => {
    expect(toLocalInput('2030-07-01T07:00:00Z', 'Europe/Paris'), 'Paris is UTC+2 in summer').toBe('2030-07-01T09:00');
  });
});

describe('defaultSlot', () => {
  it('starts at the next whole hour and lasts half an hour', () => {
    const slot = defaultSlot(new Date(2030, 0, 7, 9, 20));
    expect(slot).toEqual({ start: '2030-01-07T10:00', end: '2030-01-07T10:30' });
  });
});

describe('countdown', () => {
  const start = Date.UTC(2030, 0, 7, 9, 0);
  const end = Date.UTC(2030, 0, 7, 9, 30);
  const min = 60_000;
  it('counts down in whole minutes, rounded up', () => {
    expect(countdown(start, end, start - 4 * min)).toBe('in 4 min');
    expect(countdown(start, end, start - 3.5 * min), '3 min 30 s is not yet "in 3 min"').toBe('in 4 min');
    expect(countdown(start, end, start - 20_000), 'under a minute still reads as a minute, not zero').toBe('in 1 min');
  });
  it('uses hours past the hour', () => {
    expect(countdown(start, end, start - 65 * min)).toBe('in 1 h 5 min');
    expect(countdown(start, end, start - 120 * min)).toBe('in 2 h');
  });
  it('says how long is left while the meeting runs, then that it ended', () => {
    expect(countdown(start, end, start)).toBe('Now · 30 min left');
    expect(countdown(start, end, start + 18 * min)).toBe('Now · 12 min left');
    expect(countdown(start, end, end)).toBe('Ended');
  });
});

describe('firstDayOf', () => {
  it('maps the week start to the grid\'s first day', () => {
    expect([firstDayOf('sunday'), firstDayOf('monday'), firstDayOf('saturday')]).toEqual([0, 1, 6]);
  });
});

describe('platformName', () => {
  it('names the common platforms and tidies the others', () => {
    expect(platformName('google_meet')).toBe('Google Meet');
    expect(platformName('teams')).toBe('Microsoft Teams');
    expect(platformName('ringcentral_video'), 'an id without a name is still readable').toBe('Ringcentral video');
  });
});

describe('scrollTimeFor', () => {
  it('opens an hour before now, and at midnight in the first hour', () => {
    expect(scrollTimeFor(new Date(2026, 10, 21, 18, 30)), 'an evening meeting is in sight').toBe('17:00:00');
    expect(scrollTimeFor(new Date(2026, 10, 21, 0, 10)), 'never before midnight').toBe('00:00:00');
  });
});

describe('ago', () => {
  const now = Date.parse('2030-01-07T12:00:00Z');
  it('reads like a sync status, from just now to days', () => {
    expect(ago('2030-01-07T11:59:30Z', now), 'under a minute is just now').toBe('just now');
    expect(ago('2030-01-07T11:55:00Z', now)).toBe('5 min ago');
    expect(ago('2030-01-07T09:00:00Z', now), 'hours are whole hours').toBe('3 h ago');
    expect(ago('2030-01-06T11:00:00Z', now)).toBe('1 day ago');
    expect(ago('2030-01-04T12:00:00Z', now)).toBe('3 days ago');
  });
  it('never shows a negative or NaN time', () => {
    expect(ago('2030-01-07T12:30:00Z', now), 'a time after now (the clock moved back) is just now').toBe('just now');
    expect(ago('not a time', now), 'an unreadable stamp is not "NaN min ago"').toBe('just now');
  });
});
