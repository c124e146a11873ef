import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { defaultJoinRules, mockBackend, sampleEvent } from '../ipc/mock';
import EventJoinRule from './EventJoinRule.svelte';

async function select() {
  const el = (await screen.findByTestId('event-join-rule')) as HTMLSelectElement;
  await vi.waitFor(() => expect(el, 'enabled once the rules are loaded').not.toBeDisabled());
  return el;
}

describe('EventJoinRule', () => {
  it("stores a single event's rule under its id, and back to the settings removes it", async () => {
    const backend = mockBackend();
    backend.storedRules = { ...defaultJoinRules(), lead_minutes: 3, events: { other: 'skip' } };
    render(EventJoinRule, { backend, event: sampleEvent({ id: 'ev1' }) });
    const menu = await select();
    expect(menu).toHaveValue('default');
    await fireEvent.change(menu, { target: { value: 'auto_join' } });
    await vi.waitFor(() => expect(backend.storedRules.events).toEqual({ other: 'skip', ev1: 'auto_join' }));
    expect(backend.storedRules.lead_minutes, 'the other rules stay').toBe(3);
    expect(await screen.findByTestId('event-join-rule-saved')).toBeInTheDocument();
    await fireEvent.change(menu, { target: { value: 'default' } });
    await vi.waitFor(() => expect(backend.storedRules.events, '"As in Settings" drops the override').toEqual({ other: 'skip' }));
  });

  it("keys an occurrence's rule by its series, which is what the core reads", async () => {
    const backend = mockBackend();
    backend.storedRules = { ...defaultJoinRules(), events: { 'series-1': 'skip' } };
    render(EventJoinRule, { backend, event: sampleEvent({ id: 'series-1_20300107T090000Z', series_id: 'series-1' }) });
    const menu = await select();
    expect(menu, "the series' rule is shown").toHaveValue('skip');
    expect(screen.getByText('for every occurrence')).toBeInTheDocument();
    await fireEvent.change(menu, { target: { value: 'notify' } });
    await vi.waitFor(() => expect(backend.storedRules.events).toEqual({ 'series-1': 'notify' }));
  });

  it('shows a refused change and keeps showing what is stored', async () => {
    const backend = mockBackend();
    render(EventJoinRule, { backend, event: sampleEvent() });
    const menu = await select();
    backend.nextError = { code: 'storage', message: 'database is locked', field: null };
    await fireEvent.change(menu, { target: { value: 'skip' } });
    expect(await screen.findByTestId('event-join-rule-error')).toHaveTextContent('database is locked');
    expect(menu).toHaveValue('default');
    expect(backend.storedRules.events).toEqual({});
  });
});
