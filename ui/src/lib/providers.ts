// What the UI calls each provider, and the ones an account is connected with by signing in. The names match
// the shell's provider registry (each spec's display_name), so a message from the core and a label agree.
import type { Provider, ProviderSlug } from '../ipc/backend';

/** A provider's name as cards, buttons and messages show it. */
export const PROVIDER_NAMES: Record<Provider, string> = {
  google_calendar: 'Google',
  outlook_calendar: 'Microsoft',
  zoom: 'Zoom',
  apple_calendar: 'iCloud',
  caldav: 'CalDAV',
  ics: 'Calendar feed',
  local: 'This computer',
};

/** The providers of "Connect …" and of the refresh-token form, in the order they are offered. */
export const SIGN_IN_PROVIDERS: { slug: ProviderSlug; name: string }[] = [
  { slug: 'google', name: 'Google' },
  { slug: 'microsoft', name: 'Microsoft' },
];

export function signInName(slug: ProviderSlug): string {
  return SIGN_IN_PROVIDERS.find((p) => p.slug === slug)?.name ?? slug;
}
