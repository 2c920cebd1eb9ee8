// Package session issues and verifies Gatehouse's temporary credentials: an access key id with
// the ASIA prefix, a secret access key, a session token and an expiry.
//
// The session token is self-contained. It carries everything authentication needs — the
// principal with its principal.Session (role, session name, session policies, tags, source
// identity, MFA, issue and expiry times), the access key id and the secret access key — sealed
// with AES-256-GCM under a server key:
//
//	token = base64url( format(1) | key id(8) | nonce(12) | AES-256-GCM(claims) )
//
// The first nine bytes are authenticated as additional data, so the key id and the format
// (session token or authorization message) cannot be swapped. A node verifies a token with
// the keys it holds in memory, without a database read: the secret is recovered only by
// whoever holds the server key, so the token can travel in the clear (X-Amz-Security-Token)
// and the secret never does.
//
// Server keys live in the store (kind "session-key"), sealed at rest under the master key
// (internal/secret), so every node of a deployment shares them. A Keyring seals with its
// newest key and rotates to a new one after Options.RotateAfter; older keys keep verifying
// until every session they sealed has expired (RotateAfter plus MaxSessionDuration) and are
// then pruned. A token naming a key id the node does not know makes it reload the keys from
// the store, at most once per Options.ReloadInterval, so forged key ids cannot turn into a
// database load, or once per write another node is announced to have made (StoreChanged), so
// a forged key id cannot hide the key another node has just made either. Rotation makes one
// key per fleet: the node that rotates looks again inside its write, which the store
// serializes across nodes, and takes the key another node has just made instead.
//
// Temporary access key ids encode the account as AWS's do (the 40 bits after the first bit of
// the base32-decoded id), so GetAccessKeyInfo answers for them without any lookup.
//
// The same sealing protects the encoded authorization messages that AccessDenied errors carry
// (EncodeAuthorizationMessage), which only sts:DecodeAuthorizationMessage reveals.
package session
