package iam

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/password"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Console sign-in with a password: the Go API the web console calls. It is not an IAM
// operation (AWS's sign-in is not part of the IAM API).

// PasswordSignIn is one sign-in attempt of an IAM user.
type PasswordSignIn struct {
	Account  string // the account id (the console resolves an alias first)
	UserName string
	Password string
	// MFACode is the code the user typed; "" when the console has not asked for one yet.
	MFACode string
	// MFASerialNumber chooses the device; "" tries each device enabled for the user.
	MFASerialNumber string
	// SourceIP is the address the attempt came from, for the per-source limit.
	SourceIP string
}

// SignedIn is a successful sign-in.
type SignedIn struct {
	UserID, UserName, ARN string
	// MFA is set when an MFA code was verified.
	MFA bool
	// PasswordResetRequired and PasswordExpired mean the console must have the user set a new
	// password (ChangePassword) before anything else. (A password expired under HardExpiry
	// does not sign in at all.)
	PasswordResetRequired bool
	PasswordExpired       bool
}

// SignInFailure says why a sign-in failed.
type SignInFailure string

// Reasons of a failed sign-in. The console shows one message for the first four (see
// SignInError.Message), so an attacker cannot tell which names exist.
const (
	SignInUnknownUser   SignInFailure = "unknown user"
	SignInNoPassword    SignInFailure = "user has no console password"
	SignInWrongPassword SignInFailure = "wrong password"
	SignInWrongMFACode  SignInFailure = "wrong MFA code"
	// SignInMFARequired: the password is right and the user has an MFA device; ask for a
	// code and try again with it. It is not counted as a failure.
	SignInMFARequired SignInFailure = "MFA code required"
	// SignInPasswordExpired: the password is right but expired, and the policy's HardExpiry
	// says only an administrator may set a new one.
	SignInPasswordExpired SignInFailure = "password expired"
	// SignInThrottled: too many failures for this user or from this address; RetryAfter says
	// for how long. The password was not checked.
	SignInThrottled SignInFailure = "too many failed attempts"
)

// SignInError is the error of a failed sign-in.
type SignInError struct {
	Reason     SignInFailure
	RetryAfter time.Duration // for SignInThrottled
}

func (e *SignInError) Error() string {
	if e.Reason == SignInThrottled {
		return fmt.Sprintf("iam: sign-in refused: %s, retry after %v", e.Reason, e.RetryAfter)
	}
	return "iam: sign-in refused: " + string(e.Reason)
}

// Message is what the console shows the person signing in.
func (e *SignInError) Message() string {
	switch e.Reason {
	case SignInMFARequired:
		return "Enter the code from your MFA device."
	case SignInPasswordExpired:
		return "Your password has expired. Ask your administrator to reset it."
	case SignInThrottled:
		return "Too many failed sign-in attempts. Try again in " + seconds(e.RetryAfter) + "."
	}
	return "Your authentication information is incorrect. Please try again."
}

// signInMFA checks the MFA step of a sign-in whose password was right: verified is set when the
// owner has devices and in's code is from one of them; the reason says SignInMFARequired when
// the owner has devices and no code was given, SignInWrongMFACode when the code is wrong.
func (s *Service) signInMFA(ctx context.Context, in PasswordSignIn, ownerID string, serials []string) (verified bool, reason SignInFailure, err error) {
	switch {
	case len(serials) == 0:
		return false, "", nil
	case in.MFACode == "":
		return false, SignInMFARequired, nil
	}
	if err := s.verifyAnyMFA(ctx, in, ownerID, serials); err != nil {
		if errors.Is(err, ErrInvalidMFACode) {
			return false, SignInWrongMFACode, nil
		}
		return false, "", err
	}
	return true, "", nil
}

// checkPassword says why a sign-in's password fails ("" when it is right). It hashes once in
// every case, an unknown user or one without a password included, so that timing does not
// tell which names exist.
func (s *Service) checkPassword(ctx context.Context, known bool, lp *store.LoginProfile, password string) (SignInFailure, error) {
	hash, reason := s.passwords.dummy, SignInUnknownUser
	switch {
	case known && lp == nil:
		reason = SignInNoPassword
	case known:
		hash, reason = lp.Hash, ""
	}
	ok, err := s.passwords.hasher.Verify(ctx, password, hash)
	if err != nil {
		return "", fmt.Errorf("verify password: %w", err)
	}
	if reason == "" && !ok {
		reason = SignInWrongPassword
	}
	return reason, nil
}

// SignInWithPassword verifies an IAM user's password and, when the user has an MFA device,
// an MFA code from it. Failures are counted per user and per source address; past the limits
// further attempts are refused, without checking, for a time that doubles with each failure
// (SignInThrottled). An unknown user costs one password hash like a known one, so timing does
// not tell them apart either. A success records the user's PasswordLastUsed. A failure is a
// *SignInError; other errors are store failures.
func (s *Service) SignInWithPassword(ctx context.Context, in PasswordSignIn) (*SignedIn, error) {
	now := s.now()
	if d := s.passwords.wait(in.Account, in.UserName, in.SourceIP, now); d > 0 {
		return nil, &SignInError{Reason: SignInThrottled, RetryAfter: d}
	}
	fail := func(r SignInFailure) error {
		s.passwords.fail(in.Account, in.UserName, in.SourceIP, now)
		return &SignInError{Reason: r}
	}
	var u *store.User
	var lp *store.LoginProfile
	var pp *store.PasswordPolicy
	var serials []string
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if u, err = store.Load[store.User](ctx, tx, store.KindUser, in.Account, store.NameKey(in.UserName)); err != nil {
			if isNotFound(err) {
				u, err = nil, nil
			}
			return err
		}
		if lp, err = loadLoginProfile(ctx, tx, in.Account, u.ID); err != nil || lp == nil {
			return err
		}
		if pp, err = loadPasswordPolicy(ctx, tx, in.Account); err != nil {
			return err
		}
		serials, err = mfaSerials(ctx, tx, in.Account, u.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	reason, err := s.checkPassword(ctx, u != nil, lp, in.Password)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		return nil, fail(reason)
	}
	expired := passwordExpired(pp, lp.ChangedAt, now)
	if expired && pp.HardExpiry {
		return nil, &SignInError{Reason: SignInPasswordExpired}
	}
	out := &SignedIn{UserID: u.ID, UserName: u.Name, ARN: entity.UserARN(in.Account, u), PasswordResetRequired: lp.PasswordResetRequired, PasswordExpired: expired}
	if out.MFA, reason, err = s.signInMFA(ctx, in, u.ID, serials); err != nil {
		return nil, err
	}
	switch reason {
	case "":
	case SignInMFARequired: // asking for the code is no failure
		return nil, &SignInError{Reason: reason}
	default:
		return nil, fail(reason)
	}
	s.passwords.succeed(in.Account, in.UserName)
	if err := s.recordPasswordUse(ctx, in.Account, u.ID); err != nil {
		return nil, err
	}
	return out, nil
}

// mfaSerials are the serial numbers of the MFA devices enabled for a user.
func mfaSerials(ctx context.Context, tx store.Tx, account, userID string) ([]string, error) {
	recs, err := tx.List(ctx, store.KindMFAAssignment, account, store.Query{Prefix: store.ChildKey(userID, "")})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range recs {
		var a store.MFAAssignment
		if err := store.Decode(r, &a); err != nil {
			return nil, err
		}
		d, err := store.Load[store.MFADevice](ctx, tx, store.KindMFADevice, account, a.DeviceKey)
		if err != nil {
			return nil, fmt.Errorf("device of MFA assignment %s: %w", r.Key, err)
		}
		out = append(out, d.SerialNumber)
	}
	return out, nil
}

// verifyAnyMFA checks the code against the chosen device, or each of the user's devices.
func (s *Service) verifyAnyMFA(ctx context.Context, in PasswordSignIn, userID string, serials []string) error {
	if in.MFASerialNumber != "" {
		serials = []string{in.MFASerialNumber}
	}
	err := error(invalidAuthenticationCode())
	for _, serial := range serials {
		if err = s.VerifyMFACode(ctx, in.Account, serial, userID, in.MFACode); !errors.Is(err, ErrInvalidMFACode) {
			return err
		}
	}
	return err
}

// recordPasswordUse sets the user's PasswordLastUsed, which GetUser and ListUsers show. It
// changes no credential or grant, so only the caches of entities read (GetUser's) are made
// stale, not the credentials and grants (as RecordKeyUse).
func (s *Service) recordPasswordUse(ctx context.Context, account, userID string) error {
	defer s.enforcer.Invalidate(true) // the entity caches' epoch only
	return s.internal(ctx, s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		u, rec, err := store.LoadByID[store.User](ctx, tx, store.KindUser, userID)
		if isNotFound(err) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		now := s.timestamp()
		u.PasswordLastUsed = &now
		rec.Data = store.Encode(u)
		return tx.Replace(ctx, rec)
	}))
}

// dummyHash is verified for unknown users: it has the real parameters, so it costs a real
// check, and matches no password (its key is all zeros).
func dummyHash(p password.Params) string {
	return password.Hash{Params: p, Salt: make([]byte, password.SaltLen), Key: make([]byte, p.KeyLen)}.String()
}
