import type { Configuration } from 'oidc-provider';

type Features = NonNullable<Configuration['features']>;
type DeviceFlow = NonNullable<Features['deviceFlow']>;
type Logout = NonNullable<Features['rpInitiatedLogout']>;

/** The pages oidc-provider renders itself; the hosted-pages folder supplies them. */
export type ProviderPages = {
  renderError: NonNullable<Configuration['renderError']>;
  userCodeInputSource: NonNullable<DeviceFlow['userCodeInputSource']>;
  userCodeConfirmSource: NonNullable<DeviceFlow['userCodeConfirmSource']>;
  deviceSuccessSource: NonNullable<DeviceFlow['successSource']>;
  logoutSource: NonNullable<Logout['logoutSource']>;
  postLogoutSuccessSource: NonNullable<Logout['postLogoutSuccessSource']>;
};
