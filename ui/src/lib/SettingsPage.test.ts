import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { defaultJoinRules, defaultSettings, mockBackend } from '../ipc/mock';
import SettingsPage from './SettingsPage.svelte';

async function renderPage(backend = mockBackend()) {
  const onsaved = vi.fn();
  const onpreview = vi.fn();
  const view = render(SettingsPage, { backend, onsaved, onpreview });
  await screen.findByTestId('settings-form');
  return { backend, onsaved, onpreview, ...view };
}

describe('SettingsPage', () => {
  it('shows what the core stores', async () => {
    const backend = mockBackend();
    backend.storedSettings = { ...defaultSettings(), week_start: 'sunday', join_shortcut: 'Ctrl+Alt+J' };
    backend.storedRules = { ...defaultJoinRules(), lead_minutes: 3, early_reminder_minutes: 10, nag: true };
    await renderPage(backend);
    expect(screen.getByLabelText('Week starts on')).toHaveValue('sunday');
    expect(screen.getByLabelText('Join shortcut')).toHaveValue('Ctrl+Alt+J');
    expect(screen.getByLabelText('Remind me')).toHaveValue(3);
    expect(screen.getByTestId('set-early-on'), 'an early reminder is set').toBeChecked();
    expect(screen.getByLabelText('Early reminder')).toHaveValue(10);
    expect(screen.getByTestId('set-nag')).toBeChecked();
    expect(screen.getByTestId('set-auto-join')).not.toBeChecked();
  });

  it('saves the preferences and the join rules, keeping the rules it does not edit', async () => {
    const backend = mockBackend();
    backend.storedRules = {
      ...defaultJoinRules(),
      horizon_hours: 72,
      calendars: { work: { enabled: false, lead_minutes: null, auto_join: null } },
      events: { ev9: 'skip' },
    };
    const { onsaved } = await renderPage(backend);
    await fireEvent.change(screen.getByLabelText('Theme'), { target: { value: 'dark' } });
    await fireEvent.change(screen.getByLabelText('Time format'), { target: { value: 'h12' } });
    await fireEvent.click(screen.getByTestId('set-start-at-login'));
    await fireEvent.input(screen.getByLabelText('Join shortcut'), { target: { value: ' CmdOrCtrl+Shift+J ' } });
    await fireEvent.input(screen.getByLabelText('Remind me'), { target: { value: '5' } });
    await fireEvent.click(screen.getByTestId('set-early-on'));
    await fireEvent.input(screen.getByLabelText('Early reminder'), { target: { value: '15' } });
    await fireEvent.click(screen.getByTestId('set-plan-all'));
    await fireEvent.click(screen.getByTestId('set-skip-free'));
    await fireEvent.click(screen.getByTestId('set-auto-join'));
    await fireEvent.click(screen.getByTestId('settings-save'));

    expect(await screen.findByTestId('settings-saved')).toHaveTextContent('Settings saved');
    expect(backend.storedSettings).toEqual({
      theme: 'dark',
      week_start: 'monday',
      time_format: 'h12',
      start_at_login: true,
      join_shortcut: 'CmdOrCtrl+Shift+J',
    });
    expect(backend.storedRules).toEqual({
      ...defaultJoinRules(),
      lead_minutes: 5,
      early_reminder_minutes: 15,
      plan_for: 'all_timed',
      skip_free: false,
      auto_join: true,
      horizon_hours: 72,
      calendars: { work: { enabled: false, lead_minutes: null, auto_join: null } },
      events: { ev9: 'skip' },
    });
    expect(onsaved, 'the window applies what was stored').toHaveBeenCalledWith(backend.storedSettings);
  });

  it('an empty shortcut is sent as none', async () => {
    const backend = mockBackend();
    backend.storedSettings = { ...defaultSettings(), join_shortcut: 'Ctrl+J' };
    await renderPage(backend);
    await fireEvent.input(screen.getByLabelText('Join shortcut'), { target: { value: '   ' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    await screen.findByTestId('settings-saved');
    expect(backend.storedSettings.join_shortcut, 'a blank shortcut turns it off').toBeNull();
  });

  it('shows a bad shortcut beside its field and saves nothing', async () => {
    const backend = mockBackend();
    const { onsaved } = await renderPage(backend);
    backend.nextError = {
      code: 'invalid_input',
      message: 'the shortcut "J" needs at least one modifier; write it like CmdOrCtrl+Shift+J',
      field: 'join_shortcut',
    };
    const rules = vi.spyOn(backend, 'setJoinRules');
    await fireEvent.input(screen.getByLabelText('Join shortcut'), { target: { value: 'J' } });
    await fireEvent.input(screen.getByLabelText('Remind me'), { target: { value: '7' } });
    await fireEvent.click(screen.getByTestId('settings-save'));

    expect(await screen.findByTestId('error-join_shortcut')).toHaveTextContent('needs at least one modifier');
    expect(screen.getByLabelText('Join shortcut'), 'the field is marked invalid').toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByTestId('settings-error'), 'a field error is not shown at the top').toBeNull();
    expect(screen.queryByTestId('settings-saved')).toBeNull();
    expect(rules, 'the join rules are not saved after the preferences failed').not.toHaveBeenCalled();
    expect(backend.storedSettings, 'nothing stored').toEqual(defaultSettings());
    expect(backend.storedRules.lead_minutes, 'the lead time was not stored either').toBe(1);
    expect(onsaved).not.toHaveBeenCalled();
  });

  it('puts the preferences back when the join rules are refused', async () => {
    const backend = mockBackend();
    backend.setJoinRules = async () => {
      throw { code: 'invalid_input', message: 'lead_minutes must be between 0 and 1440 minutes', field: 'lead_minutes' };
    };
    const { onsaved } = await renderPage(backend);
    await fireEvent.change(screen.getByLabelText('Week starts on'), { target: { value: 'saturday' } });
    await fireEvent.input(screen.getByLabelText('Remind me'), { target: { value: '5000' } });
    await fireEvent.click(screen.getByTestId('settings-save'));

    expect(await screen.findByTestId('error-lead_minutes')).toHaveTextContent('between 0 and 1440');
    await vi.waitFor(() =>
      expect(backend.storedSettings, 'a failed save leaves the stored preferences as they were').toEqual(defaultSettings()),
    );
    expect(onsaved).not.toHaveBeenCalled();
  });

  it('refuses a lead time that is not a number before asking the core', async () => {
    const backend = mockBackend();
    const update = vi.spyOn(backend, 'updateSettings');
    await renderPage(backend);
    await fireEvent.input(screen.getByLabelText('Remind me'), { target: { value: '' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    expect(await screen.findByTestId('error-lead_minutes')).toHaveTextContent('whole number of minutes');
    expect(update, 'nothing is sent').not.toHaveBeenCalled();
  });

  it('shows a start-at-login failure beside its box', async () => {
    const backend = mockBackend();
    await renderPage(backend);
    backend.nextError = { code: 'io', message: 'could not write the autostart entry', field: 'start_at_login' };
    await fireEvent.click(screen.getByTestId('set-start-at-login'));
    await fireEvent.click(screen.getByTestId('settings-save'));
    expect(await screen.findByTestId('error-start_at_login')).toHaveTextContent('could not write the autostart entry');
    expect(screen.queryByTestId('settings-error')).toBeNull();
  });

  it('shows an error naming a field without a slot at the top, not nowhere', async () => {
    const backend = mockBackend();
    await renderPage(backend);
    backend.nextError = { code: 'invalid_input', message: 'unknown theme', field: 'theme' };
    await fireEvent.click(screen.getByTestId('settings-save'));
    expect(await screen.findByTestId('settings-error')).toHaveTextContent('unknown theme');
  });

  it('shows an error without a field at the top', async () => {
    const backend = mockBackend();
    await renderPage(backend);
    backend.nextError = { code: 'storage', message: 'database is locked', field: null };
    await fireEvent.click(screen.getByTestId('settings-save'));
    expect(await screen.findByTestId('settings-error')).toHaveTextContent('database is locked');
  });

  it('previews a theme as it is picked, and drops the preview when left unsaved', async () => {
    const { onpreview, unmount } = await renderPage();
    await fireEvent.change(screen.getByLabelText('Theme'), { target: { value: 'dark' } });
    expect(onpreview).toHaveBeenLastCalledWith('dark');
    unmount();
    expect(onpreview, 'leaving the page goes back to the stored theme').toHaveBeenLastCalledWith(null);
  });

  it('shows the log folder and opens it in the file manager', async () => {
    const { backend } = await renderPage();
    expect(await screen.findByText('/home/jo/.local/state/punctual/logs'), 'the path a bug report asks for').toBeInTheDocument();
    await fireEvent.click(screen.getByTestId('open-log-folder'));
    await vi.waitFor(() => expect(backend.logFolderOpened, 'Open folder asks the shell once').toBe(1));
    expect(screen.queryByTestId('log-folder-error')).toBeNull();
  });

  it('says why the log folder did not open, and leaves the settings alone', async () => {
    const backend = mockBackend();
    backend.openFolderError = { code: 'io', message: 'xdg-open is not installed', field: null };
    await renderPage(backend);
    await screen.findByText('/home/jo/.local/state/punctual/logs');
    await fireEvent.click(screen.getByTestId('open-log-folder'));
    expect(await screen.findByTestId('log-folder-error')).toHaveTextContent('xdg-open is not installed');
    expect(screen.queryByTestId('settings-error'), 'a folder that did not open is not a failed save').toBeNull();
  });
});
