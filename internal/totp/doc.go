// Package totp implements time-based one-time passwords (RFC 6238) as virtual MFA devices use
// them: HMAC-SHA1, six digits, 30-second steps, seeds exchanged in Base32 (RFC 4648), and the
// otpauth:// key URI and its QR code that authenticator apps scan.
//
// Verification is by time step, so a caller can remember the last step it accepted and refuse
// a code of that step or an earlier one: a code then works once. The package keeps no state
// and does no I/O.
package totp
