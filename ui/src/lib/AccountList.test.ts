import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { mockBackend, sampleConnection } from '../ipc/mock';
import ConnectionsPage from './ConnectionsPage.svelte';

function withAccount(overrides: Parameters<typeof sampleConnection>[0] = {}) {
  const backend = mockBackend();
  backend.connectionList = [sampleConnection(overrides)];
  return backend;
}

describe('Accounts on the connections page', () => {
  it('"Connect Google" waits for the browser, then shows the new account and its first sync', async () => {
    const backend = mockBackend();
    render(ConnectionsPage, { backend });
    expect(await screen.findByTestId('accounts-empty'), 'with no account, the section says what connecting brings').toBeInTheDocument();

    await fireEvent.click(screen.getByRole('button', { name: 'Connect Google' }));
    expect(await screen.findByTestId('connect-waiting'), 'the user is told where the sign-in is').toHaveTextContent(
      'Sign in to Google in the browser window',
    );
    expect(screen.getByTestId('connect-cancel'), 'a sign-in in progress can be cancelled').toBeInTheDocument();

    backend.finishConnect(sampleConnection({ last_sync_at: null, event_count: 0 }));
    const account = await screen.findByTestId('account');
    expect(screen.queryByTestId('connect-waiting'), 'the waiting note goes when the browser came back').toBeNull();
    expect(within(account).getByTestId('account-state')).toHaveTextContent('Connected');
    expect(account).toHaveTextContent('Not synced yet');

    backend.emitActivity({ connection_id: 'conn-1', stage: 'syncing', changes: 2500, message: '2500 changes received (2500 so far)' });
    expect(await within(account).findByTestId('account-activity'), 'the first sync shows its progress').toHaveTextContent(
      'Syncing… 2500 changes received (2500 so far)',
    );
    expect(within(account).getByTestId('account-state'), 'the badge follows the running sync').toHaveTextContent('Syncing');
    expect(within(account).getByTestId('account-sync'), 'no second sync while one runs').toBeDisabled();

    backend.emitActivity({ connection_id: 'conn-1', stage: 'done', changes: 2600, message: 'Synced: 2600 changes' });
    await waitFor(() => expect(within(account).getByTestId('account-activity')).toHaveTextContent('Synced: 2600 changes'));
    expect(within(account).getByTestId('account-state')).toHaveTextContent('Connected');
  });

  it('a cancelled sign-in is not an error, and a refused one says why', async () => {
    const backend = mockBackend();
    render(ConnectionsPage, { backend });
    await fireEvent.click(await screen.findByRole('button', { name: 'Connect Google' }));
    await fireEvent.click(await screen.findByTestId('connect-cancel'));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Connect Google' })).toBeEnabled());
    expect(backend.accountCalls, 'Cancel reaches the shell').toEqual(['connect:google', 'cancel']);
    expect(screen.queryByTestId('connect-error'), 'the user cancelled: nothing to report').toBeNull();

    await fireEvent.click(screen.getByRole('button', { name: 'Connect Google' }));
    backend.finishConnect({ code: 'access_denied', message: 'access was denied; nothing was saved', field: null });
    expect(await screen.findByTestId('connect-error')).toHaveTextContent('Google was not connected: access was denied; nothing was saved');
    expect(screen.queryByTestId('account'), 'a refused sign-in adds no account').toBeNull();
  });

  it('an account that needs a reconnect says why, offers Reconnect, and cannot sync until then', async () => {
    const backend = withAccount({
      state: 'needs_reconnect',
      connection_failure_data: { error: 'needs_reconnect', message: 'Token has been expired or revoked.', at: '2030-01-07T09:00:00Z' },
    });
    render(ConnectionsPage, { backend });
    const account = await screen.findByTestId('account');
    expect(within(account).getByTestId('account-state')).toHaveTextContent('Needs reconnect');
    expect(within(account).getByTestId('account-problem'), 'what it means for the user').toHaveTextContent(
      'its meetings get no reminders',
    );
    expect(within(account).getByTestId('account-reason'), 'the reason is the provider’s').toHaveTextContent(
      'Token has been expired or revoked.',
    );
    expect(within(account).getByTestId('account-sync'), 'a sync would only fail again').toBeDisabled();

    await fireEvent.click(within(account).getByRole('button', { name: 'Reconnect' }));
    expect(backend.accountCalls, 'Reconnect runs the sign-in again, with Google').toEqual(['connect:google']);
    expect(await within(account).findByRole('button', { name: 'Waiting for the browser…' })).toBeDisabled();
    backend.finishConnect(sampleConnection());
    await waitFor(() => expect(within(screen.getByTestId('account')).getByTestId('account-state')).toHaveTextContent('Connected'));
    expect(screen.queryByTestId('account-problem'), 'reconnected: the problem is gone').toBeNull();
  });

  it('"Sync now" syncs that account, and a failure is shown in its card', async () => {
    const backend = withAccount();
    render(ConnectionsPage, { backend });
    const account = await screen.findByTestId('account');
    await fireEvent.click(within(account).getByRole('button', { name: 'Sync now' }));
    await waitFor(() => expect(backend.accountCalls).toEqual(['sync:conn-1']));
    expect(await within(account).findByRole('button', { name: 'Sync now' }), 'ready again once the sync is done').toBeEnabled();

    backend.nextError = { code: 'network', message: 'Google could not be reached', field: null };
    await fireEvent.click(within(account).getByRole('button', { name: 'Sync now' }));
    expect(await within(account).findByTestId('account-error')).toHaveTextContent('Google could not be reached');

    // A lost grant: the refreshed list shows the state and its reason once, not also as a sync error.
    backend.nextError = { code: 'needs_reconnect', message: 'invalid_grant', field: null };
    backend.connectionList = [
      sampleConnection({
        state: 'needs_reconnect',
        connection_failure_data: { error: 'needs_reconnect', message: 'invalid_grant', at: '2030-01-07T09:00:00Z' },
      }),
    ];
    await fireEvent.click(await within(account).findByRole('button', { name: 'Sync now' }));
    expect(await within(account).findByTestId('account-problem')).toBeInTheDocument();
    expect(within(account).queryByTestId('account-error'), 'no second copy of the reason').toBeNull();
  });

  it('including a calendar stores the choice, then syncs it; a refused choice goes back', async () => {
    const backend = withAccount();
    render(ConnectionsPage, { backend });
    const account = await screen.findByTestId('account');
    const boxes = within(account).getAllByTestId('account-calendar-toggle') as HTMLInputElement[];
    expect(boxes.map((b) => b.checked), 'the stored selection').toEqual([true, false]);

    await fireEvent.click(boxes[1]);
    await waitFor(() =>
      expect(backend.accountCalls, 'stored first, then fetched at once').toEqual(['select:conn-1:cal-g2:true', 'sync:conn-1']),
    );

    backend.nextError = { code: 'storage', message: 'the database is read-only', field: null };
    const again = within(screen.getByTestId('account')).getAllByTestId('account-calendar-toggle') as HTMLInputElement[];
    await fireEvent.click(again[0]);
    expect(await within(screen.getByTestId('account')).findByTestId('account-error')).toHaveTextContent('the database is read-only');
    expect(again[0].checked, 'the box shows what is stored, not what was refused').toBe(true);
  });

  it('Disconnect asks first, says what goes, and removes the account only when confirmed', async () => {
    const backend = withAccount();
    render(ConnectionsPage, { backend });
    const account = await screen.findByTestId('account');
    await fireEvent.click(within(account).getByRole('button', { name: 'Disconnect…' }));
    const confirm = within(account).getByTestId('account-confirm');
    expect(confirm, 'the user learns what is removed and what is not').toHaveTextContent(
      'Its 42 events and their reminders are removed from this computer',
    );
    expect(confirm).toHaveTextContent('Nothing changes in your Google account.');

    await fireEvent.click(within(confirm).getByRole('button', { name: 'Keep it' }));
    expect(backend.accountCalls, 'keeping it calls nothing').toEqual([]);

    await fireEvent.click(within(account).getByRole('button', { name: 'Disconnect…' }));
    await fireEvent.click(within(account).getByTestId('account-confirm-disconnect'));
    await waitFor(() => expect(screen.queryByTestId('account'), 'gone once the core removed it').toBeNull());
    expect(backend.accountCalls).toEqual(['disconnect:conn-1']);
  });

  it('connects with a pasted refresh token, and marks the field the core refused', async () => {
    const backend = mockBackend();
    render(ConnectionsPage, { backend });
    await fireEvent.click(await screen.findByText('Connect with an existing refresh token'));
    await fireEvent.input(screen.getByLabelText('Refresh token'), { target: { value: ' 1//rt ' } });
    backend.nextError = { code: 'invalid_input', message: 'the OAuth client id is required with a refresh token', field: 'client_id' };
    await fireEvent.click(screen.getByTestId('token-submit'));
    expect(await screen.findByTestId('token-error')).toHaveTextContent('the OAuth client id is required');
    expect(screen.getByLabelText('OAuth client id'), 'the field at fault is marked').toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByTestId('token-tenant'), 'Google has no tenant to ask for').toBeNull();

    await fireEvent.input(screen.getByLabelText('OAuth client id'), { target: { value: 'client.apps' } });
    await fireEvent.input(screen.getByLabelText('OAuth client secret'), { target: { value: 's3cret' } });
    await fireEvent.click(screen.getByTestId('token-submit'));
    expect(await screen.findByTestId('account'), 'the account appears once connected').toBeInTheDocument();
    expect(backend.accountCalls.at(-1), 'the token and client are sent trimmed, for Google, with no tenant').toBe(
      'token:google:1//rt:client.apps:s3cret:',
    );
    expect((screen.getByLabelText('Refresh token') as HTMLInputElement).value, 'the token does not linger in the form').toBe('');
  });

  it('stores how often accounts sync when the menu changes, and shows a refusal', async () => {
    const backend = withAccount();
    backend.storedSyncMinutes = 7;
    render(ConnectionsPage, { backend });
    const select = (await screen.findByLabelText('Sync accounts every')) as HTMLSelectElement;
    expect(select.value, 'an interval set elsewhere (7) shows as it is').toBe('7');

    await fireEvent.change(select, { target: { value: '15' } });
    await waitFor(() => expect(backend.storedSyncMinutes).toBe(15));

    backend.nextError = { code: 'storage', message: 'the database is read-only', field: null };
    await fireEvent.change(select, { target: { value: '60' } });
    expect(await screen.findByTestId('sync-interval-error')).toHaveTextContent('the database is read-only');
    expect(select.value, 'the menu goes back to what is stored').toBe('15');
  });

  it('without an OAuth client, Connect Google opens the client form; saving it answers the error', async () => {
    const backend = mockBackend();
    render(ConnectionsPage, { backend });
    backend.nextError = {
      code: 'invalid_input',
      message: 'no Google OAuth client id: pass --client-id, set PUNCTUAL_GOOGLE_CLIENT_ID, or store one',
      field: 'client_id',
    };
    await fireEvent.click(await screen.findByRole('button', { name: 'Connect Google' }));
    expect(await screen.findByTestId('connect-error')).toHaveTextContent('no Google OAuth client id');
    expect(screen.getByTestId('client-settings'), 'the form that fixes it opens by itself').toHaveAttribute('open');

    await fireEvent.click(screen.getByTestId('client-save'));
    expect(await screen.findByTestId('client-error'), 'an empty id is refused by the core').toBeInTheDocument();

    await fireEvent.input(screen.getByTestId('client-id'), { target: { value: ' 123.apps.googleusercontent.com ' } });
    await fireEvent.input(screen.getByTestId('client-secret'), { target: { value: 'GOCSPX-x' } });
    await fireEvent.click(screen.getByTestId('client-save'));
    expect(await screen.findByTestId('client-saved')).toBeInTheDocument();
    expect(backend.accountCalls.at(-1), 'id and secret are stored trimmed').toBe('client:123.apps.googleusercontent.com:GOCSPX-x');
    expect(screen.queryByTestId('connect-error'), 'the missing-client error is answered').toBeNull();
    expect(screen.getByTestId('client-settings'), 'the stored client id is shown').toHaveTextContent(
      'Google sign-in client: 123.apps.googleusercontent.com',
    );
    expect((screen.getByLabelText('Client secret (one is stored)') as HTMLInputElement).value, 'the secret is not kept in the form').toBe(
      '',
    );
  });
  it('"Connect Microsoft" signs in to Microsoft beside Google, with the same waiting note and Cancel', async () => {
    const backend = mockBackend();
    render(ConnectionsPage, { backend });
    await fireEvent.click(await screen.findByRole('button', { name: 'Connect Microsoft' }));
    expect(backend.accountCalls, 'the shell is asked for the Microsoft sign-in by its registry slug').toEqual(['connect:microsoft']);
    expect(await screen.findByTestId('connect-waiting'), 'the note names the provider being signed in to').toHaveTextContent(
      'Sign in to Microsoft in the browser window',
    );
    expect(screen.getByRole('button', { name: 'Connect Google' }), 'one sign-in at a time').toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Connect Microsoft' }), 'Cancel takes the place of the button clicked').toBeNull();

    await fireEvent.click(screen.getByTestId('connect-cancel'));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Connect Microsoft' })).toBeEnabled());
    expect(backend.accountCalls).toEqual(['connect:microsoft', 'cancel']);
    expect(screen.queryByTestId('connect-error'), 'a cancel is not a failure').toBeNull();

    // Without a Microsoft client: the error names Microsoft, and Microsoft's client form opens, not Google's,
    // since storing a Google client would not answer it.
    backend.nextError = { code: 'invalid_input', message: 'no Microsoft OAuth client id', field: 'client_id' };
    await fireEvent.click(screen.getByRole('button', { name: 'Connect Microsoft' }));
    expect(await screen.findByTestId('connect-error')).toHaveTextContent('Microsoft was not connected: no Microsoft OAuth client id');
    expect(screen.getByTestId('client-settings'), 'the Google client form is not the fix').not.toHaveAttribute('open');
    expect(screen.getByTestId('microsoft-client-settings'), 'the Microsoft one is, and it opens by itself').toHaveAttribute('open');
    expect(screen.queryByTestId('microsoft-client-secret'), 'a public client has no secret to ask for').toBeNull();
    await fireEvent.input(screen.getByTestId('microsoft-client-id'), { target: { value: ' 5e3ce6c0-2b1f-4285-8d4b-75ee78787346 ' } });
    await fireEvent.click(screen.getByTestId('microsoft-client-save'));
    expect(await screen.findByTestId('microsoft-client-saved')).toHaveTextContent('Connect Microsoft signs in with it');
    expect(backend.accountCalls.at(-1), 'the id is stored trimmed, for Microsoft, with no secret').toBe(
      'client:microsoft:5e3ce6c0-2b1f-4285-8d4b-75ee78787346:',
    );
    expect(screen.queryByTestId('connect-error'), 'the missing-client error is answered').toBeNull();
    expect(screen.getByTestId('microsoft-client-settings')).toHaveTextContent('Microsoft sign-in client: 5e3ce6c0-2b1f-4285-8d4b-75ee78787346');

    backend.nextConnection = sampleConnection({ id: 'conn-ms', provider: 'outlook_calendar', account_email: 'jane@contoso.example' });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect Microsoft' }));
    const account = await screen.findByTestId('account');
    expect(account, 'the card names its provider').toHaveAccessibleName('Microsoft account jane@contoso.example');
    expect(screen.queryByTestId('connect-error'), 'the earlier failure is answered').toBeNull();
  });

  it('Reconnect signs in again to the account’s own provider: an Outlook card uses Microsoft', async () => {
    const backend = mockBackend();
    const lost = { error: 'needs_reconnect' as const, message: 'AADSTS70008: the refresh token has expired', at: '2030-01-07T09:00:00Z' };
    backend.connectionList = [
      sampleConnection({ state: 'needs_reconnect', connection_failure_data: lost }),
      sampleConnection({
        id: 'conn-ms',
        provider: 'outlook_calendar',
        account_email: 'jane@contoso.example',
        state: 'needs_reconnect',
        connection_failure_data: lost,
      }),
    ];
    render(ConnectionsPage, { backend });
    await screen.findAllByTestId('account');
    const outlook = screen.getByRole('article', { name: 'Microsoft account jane@contoso.example' });
    expect(within(outlook).getByText('Microsoft'), 'the card shows its provider’s name').toBeInTheDocument();
    await fireEvent.click(within(outlook).getByRole('button', { name: 'Reconnect' }));
    expect(backend.accountCalls, 'the Outlook account reconnects through Microsoft, not Google').toEqual(['connect:microsoft']);
    expect(await within(outlook).findByRole('button', { name: 'Waiting for the browser…' })).toBeDisabled();
    expect(screen.getByTestId('connect-waiting')).toHaveTextContent('Sign in to Microsoft');
    const google = screen.getByRole('article', { name: 'Google account jane@acme.example' });
    expect(within(google).getByRole('button', { name: 'Reconnect' }), 'the other card is not the one waiting').toBeEnabled();

    await fireEvent.click(within(screen.getByTestId('connect-waiting')).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByTestId('connect-waiting')).toBeNull());
    await fireEvent.click(within(google).getByRole('button', { name: 'Reconnect' }));
    expect(backend.accountCalls.at(-1), 'and a Google card through Google').toBe('connect:google');
  });

  it('the refresh-token form sends the chosen provider, and Microsoft’s tenant when one is typed', async () => {
    const backend = mockBackend();
    render(ConnectionsPage, { backend });
    await fireEvent.click(await screen.findByText('Connect with an existing refresh token'));
    await fireEvent.change(screen.getByLabelText('Provider'), { target: { value: 'microsoft' } });
    const tenant = screen.getByLabelText('Tenant (optional)');
    expect(tenant, 'the user learns what a tenant can be').toHaveAccessibleDescription('common, organizations, consumers or a tenant id');

    await fireEvent.input(screen.getByLabelText('Refresh token'), { target: { value: 'M.R3_BAY.rt' } });
    await fireEvent.input(screen.getByLabelText('OAuth client id'), { target: { value: ' 0f1e2d3c-app ' } });
    await fireEvent.input(tenant, { target: { value: ' bogus tenant ' } });
    backend.nextError = { code: 'invalid_input', message: 'the tenant must be common, organizations, consumers or a GUID', field: 'tenant' };
    await fireEvent.click(screen.getByTestId('token-submit'));
    expect(await screen.findByTestId('token-error')).toHaveTextContent('the tenant must be');
    expect(backend.accountCalls.at(-1), 'provider, token, client and tenant go to the shell, trimmed').toBe(
      'token:microsoft:M.R3_BAY.rt:0f1e2d3c-app::bogus tenant',
    );
    expect(screen.getByLabelText('Tenant (optional)'), 'the field at fault is marked').toHaveAttribute('aria-invalid', 'true');

    await fireEvent.input(screen.getByLabelText('Tenant (optional)'), { target: { value: 'organizations' } });
    await fireEvent.click(screen.getByTestId('token-submit'));
    const account = await screen.findByTestId('account');
    expect(backend.accountCalls.at(-1)).toBe('token:microsoft:M.R3_BAY.rt:0f1e2d3c-app::organizations');
    expect(account, 'the new account is a Microsoft one').toHaveAccessibleName('Microsoft account jane@contoso.example');

    // An empty tenant is the provider's default, and switching to Google sends none even if one was typed.
    await fireEvent.click(screen.getByText('Connect with an existing refresh token'));
    await fireEvent.input(screen.getByLabelText('Tenant (optional)'), { target: { value: '  ' } });
    await fireEvent.input(screen.getByLabelText('Refresh token'), { target: { value: 'rt2' } });
    await fireEvent.click(screen.getByTestId('token-submit'));
    await waitFor(() => expect(backend.accountCalls.at(-1)).toBe('token:microsoft:rt2:0f1e2d3c-app::'));
    await fireEvent.click(screen.getByText('Connect with an existing refresh token'));
    await fireEvent.input(screen.getByLabelText('Tenant (optional)'), { target: { value: 'consumers' } });
    await fireEvent.change(screen.getByLabelText('Provider'), { target: { value: 'google' } });
    expect(screen.queryByLabelText('Tenant (optional)'), 'Google has no tenant').toBeNull();
    await fireEvent.input(screen.getByLabelText('Refresh token'), { target: { value: 'rt3' } });
    await fireEvent.click(screen.getByTestId('token-submit'));
    await waitFor(() => expect(backend.accountCalls.at(-1), 'no tenant for Google').toBe('token:google:rt3:0f1e2d3c-app::'));
  });
});
