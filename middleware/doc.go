// Package middleware protects a Go HTTP service with Gatehouse in process: it does what
// Gatehouse's forward-auth does for a reverse proxy, without a round trip per request.
//
// Clients sign their requests with SigV4 (the AWS SDKs, the aws CLI, boto3) and their usual
// credentials, access keys or role sessions, scoped to the service's signing name. For each
// request the middleware
//
//  1. parses the signature (sigv4) and hashes the body the client signed;
//  2. finds the signing context of the client's key for the signature's scope (access key,
//     session token, date, region, service) in its cache, or asks Gatehouse for it with the
//     decision API's GetSigningContext (one call for a burst of requests with the same key):
//     the derived signing key of that scope (never the secret), who the principal is, and
//     its identity-based policies, permissions boundary, session policies and tags;
//  3. verifies the signature with the derived key;
//  4. maps the request to an action and a resource (Config.Routes, or RoutesFromServices for
//     a services file's declarations);
//  5. builds the request's condition keys exactly as Gatehouse does (enforce.RequestContext)
//     and evaluates the cached, compiled policies with Gatehouse's own evaluation code
//     (internal/authz);
//  6. calls the wrapped handler with the caller's Identity in the request's context
//     (IdentityFrom), or answers AWS's JSON error: 403 AccessDeniedException with AWS's
//     message, InvalidClientTokenId, SignatureDoesNotMatch, ExpiredToken, 503 when it cannot
//     decide.
//
// The local cache does not answer everything. Requests whose route carries a resource policy,
// and principals of other accounts than the service's key (whose policies Gatehouse does not
// hand out), are decided by Gatehouse's Authorize with the client's signed request.
//
// Freshness: an answer is used for Config.CacheTTL (default one minute, and never longer than
// the MaxAge Gatehouse sends). A request is allowed only from data younger than CacheTTL, or,
// while Gatehouse cannot be reached, younger than Config.StaleTTL (default five minutes).
// A request is denied only from data younger than Gatehouse's own cache bound
// (enforce.CacheTTL, two seconds): an older answer that denies is fetched again first, so a
// policy granted a moment ago is not refused from the cache; and while Gatehouse cannot be
// reached such a request gets 503, never a denial from old data. Principals the cache does
// not know get 503 while Gatehouse is unreachable, and every principal gets 503 once its data
// is older than StaleTTL. Credentials Gatehouse refused are refused again without asking it
// for RefusedTTL (five seconds).
//
// The service's own credentials (Config.Credentials) must be allowed gatehouse:GetSigningContext
// (scoped with the condition key gatehouse:SigningService, tested with StringEqualsIfExists)
// and gatehouse:Authorize.
package middleware
