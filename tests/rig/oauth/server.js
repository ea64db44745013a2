// The test rig's OAuth2 / OpenID authorization server: oidc-provider (a
// certified OpenID Provider implementation) on 127.0.0.1, configured like a
// mail provider: authorization code + PKCE for a native (loopback) client,
// rotated refresh tokens, revocation, userinfo, and token introspection for
// Dovecot, over HTTPS with the rig's own CA. The "user" step is non-interactive: the account is the login_hint;
// a login_hint starting with "deny" declines, as a user pressing Cancel would.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { Provider } from 'oidc-provider';

// Node < 20.18 lacks URL.parse, which oidc-provider uses for loopback redirects.
if (!URL.parse) {
  URL.parse = (url, base) => {
    try {
      return new URL(url, base);
    } catch {
      return null;
    }
  };
}


const port = Number(process.env.OAUTH_PORT);
const issuer = `https://127.0.0.1:${port}`;
const accessTtl = Number(process.env.OAUTH_ACCESS_TTL || 3600);

const configuration = {
  clients: [
    {
      client_id: 'mailsettings-test',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/', 'http://localhost/'],
    },
    {
      // An organisation's own registered app, as typed into Sign-in apps (a Microsoft client id is a GUID).
      client_id: '0b7c3f6e-1a2b-4c5d-8e9f-0123456789ab',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/', 'http://localhost/'],
    },
    {
      // A desktop app with a client secret, as Google issues them (HTTP Basic at the token endpoint).
      client_id: 'mailsettings-confidential',
      client_secret: 'rig-desktop-client-secret',
      application_type: 'native',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/', 'http://localhost/'],
    },
    {
      // The same native app, whose device codes run out in 3 seconds (the "expired" test).
      client_id: 'mailsettings-device-short',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
      redirect_uris: [],
    },
    {
      // An app with app-only access (client credentials), as a daemon's Entra app: its
      // service principal may open the mailbox ar@rig.test only (see extraTokenClaims).
      client_id: 'mailsettings-app',
      client_secret: 'rig-app-only-client-secret',
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'mail',
    },
    {
      // An organisation's daemon app registered in Entra (a GUID client id) with application
      // permissions for Outlook and for Microsoft Graph (Mail.Send, Mail.ReadWrite), limited to the
      // mailbox ar@rig.test (RBAC for Applications): its Graph token asks for ".default".
      client_id: '5d3c2b1a-0f9e-4d8c-b7a6-112233445566',
      client_secret: 'rig-app-only-client-secret',
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'mail https://graph.microsoft.com/.default',
    },
    {
      // The same app proving itself with a certificate (a signed client assertion,
      // RFC 7523) instead of a secret, as Microsoft recommends for daemons.
      client_id: 'mailsettings-app-cert',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks: { keys: [crypto.createPublicKey(fs.readFileSync(process.env.OAUTH_APP_CERT)).export({ format: 'jwk' })] },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'mail',
    },
    {
      // Dovecot asks whether a bearer token is valid (RFC 7662).
      client_id: 'dovecot',
      client_secret: process.env.OAUTH_INTROSPECT_SECRET,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  // The providers' own mail scopes are granted as they name them, so a sign-in through Microsoft's or
  // Google's endpoints (pointed at the rig) gets what a consenting tenant grants.
  scopes: [
    'openid', 'offline_access', 'email', 'profile', 'mail',
    'https://outlook.office.com/IMAP.AccessAsUser.All', 'https://outlook.office.com/SMTP.Send',
    'https://mail.google.com/',
    // The mail APIs' own (tests/rig/mailapi checks them): Microsoft Graph, the Gmail API.
    'https://graph.microsoft.com/Mail.Send', 'https://graph.microsoft.com/Mail.Send.Shared',
    'https://graph.microsoft.com/Mail.Read', 'https://graph.microsoft.com/Mail.ReadWrite',
    'https://graph.microsoft.com/Mail.Read.Shared', 'https://graph.microsoft.com/Mail.ReadWrite.Shared',
    'https://www.googleapis.com/auth/gmail.send', 'https://www.googleapis.com/auth/gmail.readonly',
    'https://graph.microsoft.com/.default',
  ],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: {
    devInteractions: { enabled: false },
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx, client, token) => client.clientId === 'dovecot' || token.clientId === client.clientId,
    },
    revocation: { enabled: true },
    clientCredentials: { enabled: true },
    // Sign-in on another device (RFC 8628); the tests approve it with tests/rig/device-approve.
    deviceFlow: { enabled: true },
    userinfo: { enabled: true },
  },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: id, email_verified: true, name: `Test user ${id}` }),
  }),
  // Dovecot matches the token's "email" against the IMAP/SMTP user name.
  // An app-only token names the one mailbox the app was granted (as Exchange's
  // Add-MailboxPermission does for a service principal).
  extraTokenClaims: async (ctx, token) => {
    if (token.accountId) return { email: token.accountId };
    const apps = ['mailsettings-app', 'mailsettings-app-cert', '5d3c2b1a-0f9e-4d8c-b7a6-112233445566'];
    if (token.kind === 'ClientCredentials' && apps.includes(token.clientId)) return { email: 'ar@rig.test' };
    return undefined;
  },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTtl,
    AuthorizationCode: 120,
    IdToken: 3600,
    RefreshToken: 86400,
    Interaction: 600,
    Session: 600,
    DeviceCode: (ctx, token, client) => (client && client.clientId === 'mailsettings-device-short' ? 3 : 600),
    Grant: 86400,
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['mailsettings-test-cookie-key'] },
};

const provider = new Provider(issuer, configuration);
const callback = provider.callback();

// Every token-endpoint request, one line each ("GRANT_TYPE REFRESH_TOKEN|- ok|ERROR"), so a
// test can count what a client asked (a retry is visible). Test tokens only.
const tokenLog = process.env.OAUTH_TOKEN_LOG;
function logTokenRequest(ctx, outcome) {
  if (!tokenLog) return;
  const params = (ctx.oidc && ctx.oidc.params) || {};
  fs.appendFileSync(tokenLog, `${params.grant_type || '-'} ${params.refresh_token || '-'} ${outcome}\n`);
}
provider.on('grant.success', (ctx) => logTokenRequest(ctx, 'ok'));
provider.on('grant.error', (ctx, err) => logTokenRequest(ctx, err.error || 'error'));

// Client ids an administrator has approved for the whole tenant (see /adminconsent).
const adminApproved = new Set();

async function interaction(req, res) {
  const { prompt, params, session, grantId } = await provider.interactionDetails(req, res);
  const hint = String(params.login_hint || 'ar@rig.test');
  // A tenant where users may not consent to mail permissions (Microsoft's default in many
  // organisations): a hint starting with "consent" is refused until an administrator has
  // approved the app at /adminconsent, as Entra ID's admin-consent endpoint does.
  if (hint.startsWith('consent') && !adminApproved.has(String(params.client_id))) {
    return provider.interactionFinished(req, res, {
      error: 'consent_required',
      error_description: `AADSTS65001: The user or administrator has not consented to use the application with ID '${params.client_id}'. Send an interactive authorization request for this user and resource.`,
    }, { mergeWithLastSubmission: false });
  }
  // A tenant whose Conditional Access policy blocks the sign-in (Microsoft's words and code).
  if (hint.startsWith('blocked')) {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
    }, { mergeWithLastSubmission: false });
  }
  if (hint.startsWith('deny')) {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'The user declined to grant access to the mailbox.',
    }, { mergeWithLastSubmission: false });
  }
  if (prompt.name === 'login') {
    return provider.interactionFinished(req, res, { login: { accountId: hint } }, { mergeWithLastSubmission: false });
  }
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const id = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId: id } }, { mergeWithLastSubmission: true });
}

https.createServer({
  cert: fs.readFileSync(process.env.OAUTH_TLS_CERT),
  key: fs.readFileSync(process.env.OAUTH_TLS_KEY),
}, (req, res) => {
  if (req.url.startsWith('/adminconsent')) {
    const clientId = new URL(req.url, issuer).searchParams.get('client_id') || '';
    adminApproved.add(clientId);
    res.setHeader('Content-Type', 'text/plain');
    res.end(`Permissions granted for ${clientId} in this organisation.\n`);
    return;
  }
  if (req.url.startsWith('/rig/withdraw-consent')) {
    // Not Entra's: the rig's control, so a test starts from a tenant nobody has approved
    // yet even on a rig an earlier run left behind.
    const clientId = new URL(req.url, issuer).searchParams.get('client_id') || '';
    adminApproved.delete(clientId);
    res.setHeader('Content-Type', 'text/plain');
    res.end(`Approval withdrawn for ${clientId}.\n`);
    return;
  }
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
    return;
  }
  callback(req, res);
}).listen(port, '127.0.0.1', () => {
  console.log(`authorization server on ${issuer}`);
});
