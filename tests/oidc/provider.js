// A real OpenID provider for the single sign-on tests: oidc-provider with its built-in login and
// consent pages, on loopback, with one confidential client whose id, secret and redirect URI come
// from the environment (OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI). It prints
// `issuer <url>` on standard output once it listens, and stops when standard input closes.
//
// The accounts below are test fixtures: the login page takes any password, and the `roles` claim
// (in the `profile` scope, so it reaches lekdicht through the userinfo endpoint) lists the
// organisation's group names, which lekdicht maps to its roles.
import http from 'node:http';
import Provider from 'oidc-provider';

const accounts = {
  inge: { name: 'Inge Onderzoeker', roles: ['lekdicht-investigator'] },
  piet: { name: 'Piet Fiatteur', roles: ['lekdicht-approver'] },
  rita: { name: 'Rita Reviewer', roles: ['lekdicht-reviewer', 'other-application-admin'] },
  dubbel: { name: 'Dubbel Rol', roles: ['lekdicht-investigator', 'lekdicht-approver'] },
};

const { OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI } = process.env;
if (!OIDC_CLIENT_ID || !OIDC_CLIENT_SECRET || !OIDC_REDIRECT_URI) {
  console.error('OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_REDIRECT_URI are required');
  process.exit(2);
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: OIDC_CLIENT_ID,
      client_secret: OIDC_CLIENT_SECRET,
      redirect_uris: [OIDC_REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username', 'roles'],
    },
    cookies: { keys: [crypto.randomUUID()] },
    async findAccount(ctx, id) {
      const account = accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, name: account.name, preferred_username: id, roles: account.roles };
        },
      };
    },
  });
  server.on('request', provider.callback());
  console.log(`issuer ${issuer}`);
});

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
