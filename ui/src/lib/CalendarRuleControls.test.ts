import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import type { CalendarRule } from '../ipc/bindings/CalendarRule';
import CalendarRuleControls from './CalendarRuleControls.svelte';

describe('CalendarRuleControls', () => {
  it('starts as in Settings and sends each change with the rest of the rule', async () => {
    const onsave = vi.fn(async (_rule: CalendarRule) => {});
    render(CalendarRuleControls, { name: 'Work', rule: undefined, onsave });
    expect(screen.getByLabelText('Reminders for Work')).toBeChecked();
    expect(screen.getByLabelText('Reminder time for Work')).toHaveValue('default');
    expect(screen.getByLabelText('Auto-join for Work')).toHaveValue('default');
    await fireEvent.change(screen.getByLabelText('Reminder time for Work'), { target: { value: '5' } });
    expect(onsave).toHaveBeenLastCalledWith({ enabled: true, lead_minutes: 5, auto_join: null });
    await fireEvent.change(screen.getByLabelText('Auto-join for Work'), { target: { value: 'off' } });
    expect(onsave, 'false, not null: "never" is an override too').toHaveBeenLastCalledWith({
      enabled: true,
      lead_minutes: null,
      auto_join: false,
    });
  });

  it('"as in Settings" clears an override, and a lead from elsewhere still shows', async () => {
    const onsave = vi.fn(async (_rule: CalendarRule) => {});
    render(CalendarRuleControls, { name: 'Work', rule: { enabled: true, lead_minutes: 3, auto_join: true }, onsave });
    expect(screen.getByLabelText('Reminder time for Work'), '3 is not in the menu, but it is what is stored').toHaveValue('3');
    expect(screen.getByLabelText('Auto-join for Work')).toHaveValue('on');
    await fireEvent.change(screen.getByLabelText('Reminder time for Work'), { target: { value: 'default' } });
    expect(onsave).toHaveBeenLastCalledWith({ enabled: true, lead_minutes: null, auto_join: true });
  });

  it('hides the details of a calendar whose reminders are off', () => {
    render(CalendarRuleControls, { name: 'Holidays', rule: { enabled: false, lead_minutes: null, auto_join: null }, onsave: vi.fn() });
    expect(screen.getByLabelText('Reminders for Holidays')).not.toBeChecked();
    expect(screen.queryByLabelText('Reminder time for Holidays')).toBeNull();
  });

  it('shows a refused change and puts the control back', async () => {
    const onsave = vi.fn(async () => {
      throw { code: 'invalid_input', message: 'lead_minutes must be between 0 and 1440 minutes', field: 'lead_minutes' };
    });
    render(CalendarRuleControls, { name: 'Work', rule: undefined, onsave });
    const lead = screen.getByLabelText('Reminder time for Work');
    await fireEvent.change(lead, { target: { value: '15' } });
    expect(await screen.findByTestId('calendar-reminders-error')).toHaveTextContent('between 0 and 1440');
    expect(lead, 'the menu shows what is stored').toHaveValue('default');
  });
});
