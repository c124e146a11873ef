import { describe, expect, it } from 'vitest';
import { fieldOf } from './errors';

describe('fieldOf', () => {
  it('uses the field the core names', () => {
    expect(fieldOf({ code: 'invalid_input', message: 'bad', field: 'location' })).toBe('location');
  });
  it('falls back to the field implied by the code', () => {
    expect(fieldOf({ code: 'start_in_past', message: 'past', field: null }), 'a past start belongs beside Start').toBe('start');
    expect(fieldOf({ code: 'invalid_rrule', message: 'bad rule', field: null })).toBe('repeat');
  });
  it('puts errors about no field at the top of the form', () => {
    expect(fieldOf({ code: 'storage', message: 'disk full', field: null })).toBeNull();
  });
});
