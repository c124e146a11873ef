import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { mockBackend, sampleEvent } from '../ipc/mock';
import EventForm from './EventForm.svelte';

describe('EventForm', () => {
  it('shows a validation error from the core beside its field and stays open', async () => {
    const backend = mockBackend();
    backend.nextError = { code: 'title_required', message: 'title: a title is required', field: 'title' };
    const onsaved = vi.fn();
    render(EventForm, { backend, onclose: vi.fn(), onsaved });
    await fireEvent.click(screen.getByTestId('save-event'));
    const error = await screen.findByTestId('error-title');
    expect(error).toHaveTextContent('a title is required');
    expect(screen.getByLabelText('Title'), 'the field is marked invalid').toHaveAttribute('aria-invalid', 'true');
    expect(onsaved, 'a rejected create must not close the form').not.toHaveBeenCalled();
    expect(backend.events.length, 'nothing was created').toBe(0);
  });

  it('puts a start in the past beside Start', async () => {
    const backend = mockBackend();
    backend.nextError = { code: 'start_in_past', message: 'start: is in the past', field: null };
    render(EventForm, { backend, onclose: vi.fn(), onsaved: vi.fn() });
    await fireEvent.click(screen.getByTestId('save-event'));
    expect(await screen.findByTestId('error-start')).toHaveTextContent('is in the past');
    expect(screen.queryByTestId('error-title')).toBeNull();
  });

  it('shows an error without a field at the top of the form', async () => {
    const backend = mockBackend();
    backend.nextError = { code: 'storage', message: 'database is locked', field: null };
    render(EventForm, { backend, onclose: vi.fn(), onsaved: vi.fn() });
    await fireEvent.click(screen.getByTestId('save-event'));
    expect(await screen.findByTestId('form-error')).toHaveTextContent('database is locked');
  });

  it('sends what the user typed, with the repeat preset as an RRULE', async () => {
    const backend = mockBackend();
    const onsaved = vi.fn();
    render(EventForm, { backend, onclose: vi.fn(), onsaved });
    await fireEvent.input(screen.getByLabelText('Title'), { target: { value: 'Standup' } });
    await fireEvent.input(screen.getByLabelText('Start'), { target: { value: '2030-01-07T09:00' } });
    await fireEvent.input(screen.getByLabelText('End'), { target: { value: '2030-01-07T09:15' } });
    await fireEvent.change(screen.getByLabelText('Repeat'), { target: { value: 'weekdays' } });
    await fireEvent.click(screen.getByTestId('save-event'));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalled());
    expect(backend.created[0]).toMatchObject({
      title: 'Standup',
      start: '2030-01-07T09:00',
      end: '2030-01-07T09:15',
      all_day: false,
      repeat: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
    });
  });

  it('prefills an existing event and offers delete', async () => {
    const backend = mockBackend([sampleEvent({ title: 'Retro' })]);
    const onsaved = vi.fn();
    render(EventForm, { backend, event: backend.events[0], onclose: vi.fn(), onsaved });
    expect(screen.getByLabelText('Title')).toHaveValue('Retro');
    await fireEvent.click(screen.getByTestId('delete-event'));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledWith(null));
    expect(backend.events.length, 'the event was deleted').toBe(0);
  });

  it('closes on Escape', async () => {
    const onclose = vi.fn();
    render(EventForm, { backend: mockBackend(), onclose, onsaved: vi.fn() });
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(onclose).toHaveBeenCalled();
  });
});
