import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { mockBackend, sampleConflict, sampleConnection } from '../ipc/mock';
import ConnectionsPage from './ConnectionsPage.svelte';

function twoAccounts() {
  const backend = mockBackend();
  backend.connectionList = [
    sampleConnection(),
    sampleConnection({ id: 'conn-2', account_email: 'jane@home.example', deduplication_key: 'google_calendar:jane@home.example' }),
  ];
  return backend;
}

function card(email: string): HTMLElement {
  const found = screen.getAllByTestId('account').find((a) => within(a).getByTestId('account-email').textContent === email);
  if (!found) throw new Error(`no account card for ${email}`);
  return found;
}

describe('Conflicts on the connections page', () => {
  it('shows a refused change on its own account: the event, the change, the calendar, when, and why', async () => {
    const backend = twoAccounts();
    backend.conflictList = [sampleConflict({ changed_at: new Date(Date.now() - 5 * 60_000).toISOString() })];
    render(ConnectionsPage, { backend });

    const notice = await within(await waitFor(() => card('jane@acme.example'))).findByTestId('account-conflicts');
    expect(within(notice).getByTestId('conflicts-lead'), 'the user learns what happened and that nothing was overwritten').toHaveTextContent(
      "One change could not be applied in Google. Google's version is kept",
    );
    const item = within(notice).getByTestId('account-conflict');
    expect(within(item).getByTestId('conflict-what'), 'which event and which change').toHaveTextContent(
      'Your edit of “Review, my version” was not applied in Google',
    );
    expect(item, 'in which calendar, and when the user made the change').toHaveTextContent('Jane Doe · changed 5 min ago');
    expect(within(item).getByTestId('conflict-why'), 'the core’s reason, as a sentence').toHaveTextContent(
      "The event changed at the provider since Punctual read it, so this change was not applied; the provider's version stands.",
    );
    expect(
      within(card('jane@home.example')).queryByTestId('account-conflicts'),
      'a conflict belongs to the account whose calendar refused it, not to every account',
    ).toBeNull();
  });

  it('names each kind of refused change, and an event with no title', async () => {
    const backend = twoAccounts();
    backend.conflictList = [
      sampleConflict({ id: 1, change: 'create', title: 'Kickoff' }),
      sampleConflict({ id: 2, change: 'delete', title: 'Retro' }),
      sampleConflict({ id: 3, change: 'split', title: 'Standup' }),
      sampleConflict({ id: 4, change: 'update', title: null }),
    ];
    render(ConnectionsPage, { backend });
    const notice = await screen.findByTestId('account-conflicts');
    expect(within(notice).getByTestId('conflicts-lead')).toHaveTextContent('4 changes could not be applied');
    expect(within(notice).getAllByTestId('conflict-what').map((e) => e.textContent), 'oldest first, as the core lists them').toEqual([
      'Adding “Kickoff” was not applied in Google',
      'Deleting “Retro” was not applied in Google',
      'Your edit of “Standup” and its later occurrences was not applied in Google',
      'Your edit of an untitled event was not applied in Google',
    ]);
  });

  it('Dismiss forgets the conflict in the core and the notice goes', async () => {
    const backend = twoAccounts();
    backend.conflictList = [sampleConflict({ id: 7 }), sampleConflict({ id: 8, title: 'Retro', change: 'delete' })];
    render(ConnectionsPage, { backend });
    const notice = await screen.findByTestId('account-conflicts');
    await fireEvent.click(within(notice).getByRole('button', { name: 'Dismiss: Your edit of “Review, my version” was not applied in Google' }));
    await waitFor(() => expect(screen.getAllByTestId('account-conflict'), 'only the dismissed one goes').toHaveLength(1));
    expect(backend.accountCalls, 'the core forgets it, by its id').toEqual(['dismiss:7']);
    expect(screen.getByTestId('conflict-what')).toHaveTextContent('Deleting “Retro”');

    await fireEvent.click(screen.getByTestId('conflict-dismiss'));
    await waitFor(() => expect(screen.queryByTestId('account-conflicts'), 'with none left, no notice').toBeNull());
  });

  it('a conflict dismissed elsewhere just goes; a failed dismiss says why and keeps it', async () => {
    const backend = twoAccounts();
    backend.conflictList = [sampleConflict({ id: 7 })];
    render(ConnectionsPage, { backend });
    await screen.findByTestId('account-conflicts');

    backend.nextError = { code: 'storage', message: 'the database is read-only', field: null };
    await fireEvent.click(screen.getByTestId('conflict-dismiss'));
    expect(await screen.findByTestId('conflict-error')).toHaveTextContent('Could not dismiss: the database is read-only');
    expect(screen.getByTestId('account-conflict'), 'nothing is hidden that the core did not forget').toBeInTheDocument();

    // The CLI dismissed it meanwhile: the core answers not_found, which is what the user asked for.
    backend.conflictList = [];
    backend.nextError = { code: 'not_found', message: 'no conflict with id 7', field: null };
    await fireEvent.click(screen.getByTestId('conflict-dismiss'));
    await waitFor(() => expect(screen.queryByTestId('account-conflicts')).toBeNull());
    expect(screen.queryByTestId('conflict-error'), 'not an error to show').toBeNull();
  });

  it('a conflict found by a sync appears when the sync is done, and one from elsewhere on the change event', async () => {
    const backend = twoAccounts();
    render(ConnectionsPage, { backend });
    const account = await waitFor(() => card('jane@acme.example'));
    expect(within(account).queryByTestId('account-conflicts')).toBeNull();

    backend.conflictList = [sampleConflict({ id: 1 })];
    backend.emitActivity({ connection_id: 'conn-1', stage: 'done', changes: 3, message: 'Synced: 3 changes' });
    expect(await within(account).findByTestId('account-conflicts'), 'the page asks again once a sync ends').toBeInTheDocument();

    backend.conflictList = [sampleConflict({ id: 1 }), sampleConflict({ id: 2, connection_id: 'conn-2', title: 'Retro' })];
    backend.emitChange();
    expect(
      await within(card('jane@home.example')).findByTestId('account-conflicts'),
      'an edit pushed by the calendar page (or the CLI) that was refused shows without a sync',
    ).toHaveTextContent('“Retro”');
  });

  it('a failed read of the conflicts is said, and the last list stays', async () => {
    const backend = twoAccounts();
    backend.conflictList = [sampleConflict({ id: 1 })];
    render(ConnectionsPage, { backend });
    await screen.findByTestId('account-conflicts');

    backend.conflictsError = { code: 'storage', message: 'database is locked', field: null };
    backend.emitChange();
    expect(await screen.findByTestId('conflicts-error')).toHaveTextContent(
      'Could not check for changes your accounts refused: database is locked',
    );
    expect(screen.getByTestId('account-conflicts'), 'a conflict does not vanish because one read failed').toBeInTheDocument();
    expect(screen.getAllByTestId('account'), 'the accounts still show').toHaveLength(2);
  });
});
