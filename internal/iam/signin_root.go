package iam

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/gatehouse-iam/gatehouse/internal/password"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// The root user's console password and sign-in, for the web console. AWS sets the root
// password outside IAM (at sign-up or on the sign-in page), so these are Go calls, not IAM
// operations; `gatehouse account set-root-password` sets it.
//
// The password is stored as a login profile record (store.KindLoginProfile) keyed by the
// account id, as the root user's other credentials (access keys, MFA assignments) are. IAM
// users' login profiles are keyed by their AIDA ids, so the two never meet, and no IAM
// operation reaches this one: every login profile operation resolves a user first.

// rootLimitName is the name the root user's failed sign-ins are counted under (per account):
// ':' is not allowed in IAM user names, so it is no user's.
const rootLimitName = ":root"

// rootPasswordSymbols are the symbols AWS lists for the root user's password, which differ
// from the IAM password policy's (passwordSymbols): "< >" are in, "'" is not.
const rootPasswordSymbols = "!@#$%^&*()<>[]{}|_+-="

// Errors of SetRootPassword.
var (
	// ErrNoSuchAccount: the account does not exist.
	ErrNoSuchAccount = errors.New("no such account")
	// ErrRootPasswordRules wraps the rule a refused root password breaks; the whole error
	// text is fit to show the person who chose it.
	ErrRootPasswordRules = errors.New("the password does not meet the root user's password rules")
)

// checkRootPassword applies AWS's rules for the root user's password (AWS Account Management
// Reference Guide, creating an account / changing the root user's password: "a minimum of 8
// characters and a maximum of 128 characters", "a minimum of three of the following mix of
// character types: uppercase, lowercase, numbers, and ! @ # $ % ^ & * () <> [] {} | _+-=
// symbols", "not be identical to your AWS account name or email address"). The account
// policy does not apply to root. A Gatehouse account has no name or e-mail address; its id
// and alias stand for them. Control characters are refused (Gatehouse's choice: no one can
// type them on the sign-in page).
func checkRootPassword(pw, account, alias string) error {
	refuse := func(rule string) error { return fmt.Errorf("%w: %s", ErrRootPasswordRules, rule) }
	n := len([]rune(pw))
	if n < 8 || n > 128 {
		return refuse("it must have from 8 to 128 characters; this one has " + strconv.Itoa(n))
	}
	var upper, lower, number, symbol bool
	for _, r := range pw {
		switch {
		case unicode.IsControl(r):
			return refuse("it must not contain control characters such as tabs or line breaks")
		case 'A' <= r && r <= 'Z':
			upper = true
		case 'a' <= r && r <= 'z':
			lower = true
		case '0' <= r && r <= '9':
			number = true
		case strings.ContainsRune(rootPasswordSymbols, r):
			symbol = true
		}
	}
	classes := 0
	for _, has := range []bool{upper, lower, number, symbol} {
		if has {
			classes++
		}
	}
	if classes < 3 {
		return refuse("it must contain at least three of: uppercase letters (A to Z), lowercase letters (a to z), numbers (0 to 9) and the symbols " +
			strings.Join(strings.Split(rootPasswordSymbols, ""), " "))
	}
	if pw == account || (alias != "" && strings.EqualFold(pw, alias)) {
		return refuse("it must not be the account's id or alias")
	}
	return nil
}

// accountExists reports whether the account exists.
func accountExists(ctx context.Context, tx store.Tx, account string) (bool, error) {
	if !accountIDPattern.MatchString(account) {
		return false, nil
	}
	_, err := tx.Get(ctx, store.KindAccount, "", account)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// SetRootPassword sets the console password of the account's root user, replacing any it
// had. It is hashed as IAM users' passwords are (argon2id), outside the write transaction.
// A refused password wraps ErrRootPasswordRules, an unknown account ErrNoSuchAccount; either
// changes nothing.
func (s *Service) SetRootPassword(ctx context.Context, account, pw string) error {
	var known bool
	var alias string
	err := s.store.View(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if known, err = accountExists(ctx, tx, account); err != nil || !known {
			return err
		}
		alias, err = loadAccountAlias(ctx, tx, account)
		return err
	})
	if err != nil {
		return fmt.Errorf("set the root password of account %s: %w", account, err)
	}
	if !known {
		return fmt.Errorf("account %s: %w", account, ErrNoSuchAccount)
	}
	if err := checkRootPassword(pw, account, alias); err != nil {
		return err
	}
	salt, err := password.NewSalt()
	if err != nil {
		return err
	}
	hash, err := s.passwords.hasher.Derive(ctx, pw, salt)
	if err != nil {
		return fmt.Errorf("hash the root password: %w", err)
	}
	now := s.timestamp()
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		// The account may have gone meanwhile.
		if ok, err := accountExists(ctx, tx, account); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("account %s: %w", account, ErrNoSuchAccount)
			}
			return err
		}
		lp, err := loadLoginProfile(ctx, tx, account, account)
		if err != nil {
			return err
		}
		return putRecord(ctx, tx, loginProfileRecord(account, writtenProfile(lp, account, hash, nil, now)))
	})
	if err != nil && !errors.Is(err, ErrNoSuchAccount) {
		return fmt.Errorf("set the root password of account %s: %w", account, err)
	}
	return err
}

// hasRootPassword reports whether the account's root user has a console password.
func hasRootPassword(ctx context.Context, tx store.Tx, account string) (bool, error) {
	return hasLoginProfile(ctx, tx, account, account)
}

// RootSignIn is one sign-in attempt of an account's root user.
type RootSignIn struct {
	Account  string // the account id (the console resolves an alias first: AccountForSignIn)
	Password string
	// MFACode is the code the person typed; "" when the console has not asked for one yet.
	MFACode string
	// MFASerialNumber chooses the device; "" tries each device enabled for the root user.
	MFASerialNumber string
	// SourceIP is the address the attempt came from, for the per-source limit.
	SourceIP string
}

// SignInRoot verifies the root user's password and, when the root user has an MFA device, an
// MFA code from it, with SignInWithPassword's semantics: the same *SignInError reasons (an
// unknown account is SignInUnknownUser, a root user without a password SignInNoPassword, and
// the console shows one message for them and a wrong password), one password hash for every
// attempt, and the same limits, per account root user and per source address. The root user
// has no password policy, so its password never expires and never needs a reset.
func (s *Service) SignInRoot(ctx context.Context, in RootSignIn) (*SignedIn, error) {
	now := s.now()
	if d := s.passwords.wait(in.Account, rootLimitName, in.SourceIP, now); d > 0 {
		return nil, &SignInError{Reason: SignInThrottled, RetryAfter: d}
	}
	fail := func(r SignInFailure) error {
		s.passwords.fail(in.Account, rootLimitName, in.SourceIP, now)
		return &SignInError{Reason: r}
	}
	var known bool
	var lp *store.LoginProfile
	var serials []string
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if known, err = accountExists(ctx, tx, in.Account); err != nil || !known {
			return err
		}
		if lp, err = loadLoginProfile(ctx, tx, in.Account, in.Account); err != nil || lp == nil {
			return err
		}
		serials, err = mfaSerials(ctx, tx, in.Account, in.Account)
		return err
	})
	if err != nil {
		return nil, err
	}
	reason, err := s.checkPassword(ctx, known, lp, in.Password)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		return nil, fail(reason)
	}
	out := &SignedIn{UserID: in.Account, ARN: "arn:aws:iam::" + in.Account + ":root"}
	mfa := PasswordSignIn{Account: in.Account, MFACode: in.MFACode, MFASerialNumber: in.MFASerialNumber}
	if out.MFA, reason, err = s.signInMFA(ctx, mfa, in.Account, serials); err != nil {
		return nil, err
	}
	switch reason {
	case "":
	case SignInMFARequired: // asking for the code is no failure
		return nil, &SignInError{Reason: reason}
	default:
		return nil, fail(reason)
	}
	s.passwords.succeed(in.Account, rootLimitName)
	return out, nil
}

// AccountForSignIn is the account a sign-in page names: a 12-digit id of an existing account,
// or an account alias (in any case: aliases are lower case, and people type sign-in URLs as
// they like). ok is false when it is neither.
func (s *Service) AccountForSignIn(ctx context.Context, idOrAlias string) (account string, ok bool, err error) {
	err = s.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
		if twelveDigits.MatchString(idOrAlias) {
			// An alias cannot be 12 digits (validAccountAlias), so this is only ever an id.
			if ok, err = accountExists(ctx, tx, idOrAlias); ok {
				account = idOrAlias
			}
			return err
		}
		alias := strings.ToLower(idOrAlias)
		if checkAliasPattern(alias) != nil {
			return nil
		}
		rec, err := tx.Get(ctx, store.KindAccountAlias, "", alias)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		account, ok = rec.ID, true
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("find the account of %q: %w", idOrAlias, err)
	}
	return account, ok, nil
}

// AccountAlias is the account's alias, "" when it has none.
func (s *Service) AccountAlias(ctx context.Context, account string) (alias string, err error) {
	err = s.store.View(ctx, func(ctx context.Context, tx store.Tx) error {
		alias, err = loadAccountAlias(ctx, tx, account)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("alias of account %s: %w", account, err)
	}
	return alias, nil
}
