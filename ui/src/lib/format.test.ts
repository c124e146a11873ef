import { describe, expect, it } from 'vitest';
import { sampleEvent } from '../ipc/mock';
import { defaultSlot, groupByDay, timeRange, toLocalInput } from './format';

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
