// The Backend over Tauri IPC. Command names and argument names match src-tauri/src/commands.rs and accounts.rs.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { Backend, SyncActivity } from './backend';

/** The event the shell emits after any write to the data directory. */
export const CHANGED_EVENT = 'punctual://changed'; // src-tauri/src/watch.rs
/** The event that carries each step of a connect or sync. */
export const ACTIVITY_EVENT = 'punctual://sync-activity'; // src-tauri/src/accounts.rs

export function tauriBackend(): Backend {
  return {
    listEvents: (query) => invoke('list_events', { query }),
    createEvent: (input) => invoke('create_event', { input }),
    editEvent: (id, input, scope) => invoke('edit_event', { id, input, scope }),
    deleteEvent: (id, scope) => invoke('delete_event', { id, scope }),
    calendars: () => invoke('calendars'),
    importIcs: (text, calendarName) => invoke('import_ics', { text, calendarName }),
    exportIcs: (calendarId) => invoke('export_ics', { calendarId }),
    dataDir: () => invoke('data_dir'),
    logFolder: () => invoke('log_folder'),
    openLogFolder: () => invoke('open_log_folder'),
    settings: () => invoke('settings'),
    updateSettings: (settings) => invoke('update_settings', { settings }),
    joinRules: () => invoke('join_rules'),
    setJoinRules: (rules) => invoke('set_join_rules', { rules }),
    upcomingMeetings: (hours, limit) => invoke('upcoming_meetings', { hours, limit }),
    joinEvent: (target) => invoke('join_event', { target }),
    connections: () => invoke('connections'),
    connectAccount: (provider) => invoke('connect_account', { provider }),
    cancelConnect: () => invoke('cancel_connect'),
    connectAccountToken: (provider, refreshToken, clientId, clientSecret, tenant) =>
      invoke('connect_account_token', { provider, refreshToken, clientId, clientSecret, tenant }),
    syncNow: (id) => invoke('sync_now', { id }),
    selectCalendar: (connectionId, calendarId, selected) =>
      invoke('select_calendar', { connectionId, calendarId, selected }),
    disconnect: (id) => invoke('disconnect', { id }),
    conflicts: () => invoke('conflicts'),
    dismissConflict: (id) => invoke('dismiss_conflict', { id }),
    syncInterval: () => invoke('sync_interval'),
    setSyncInterval: (minutes) => invoke('set_sync_interval', { minutes }),
    oauthClient: (provider) => invoke('oauth_client', { provider }),
    setOAuthClient: (provider, clientId, clientSecret) =>
      invoke('set_oauth_client', { provider, clientId, clientSecret }),
    onSyncActivity: async (handler) => listen<SyncActivity>(ACTIVITY_EVENT, (e) => handler(e.payload)),
    onChange: async (handler) => listen(CHANGED_EVENT, () => handler()),
  };
}
