package iam

import (
	"context"
	"crypto/subtle"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/password"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Console passwords. A password is hashed with argon2id outside any store transaction (a hash
// takes ~27 ms, and the store commits writes one group at a time), then written in a
// transaction that first checks nothing changed meanwhile.

// passwordGuard is the service's password machinery: the hasher, which bounds how many hashes
// run at once, and the limiters of failed attempts per user and per source address.
type passwordGuard struct {
	hasher  *password.Hasher
	users   *password.Limiter // by account + "/" + lower-case user name
	sources *password.Limiter // by password.SourceKey
	dummy   string            // see dummyHash
}

func newPasswordGuard() *passwordGuard { return passwordGuardFor(password.Default) }

// passwordGuardFor hashes with p (cheaper parameters in tests).
func passwordGuardFor(p password.Params) *passwordGuard {
	return &passwordGuard{
		// One hash per core: more at once only adds memory (19 MiB each) and latency.
		hasher: password.NewHasher(p, runtime.GOMAXPROCS(0)),
		dummy:  dummyHash(p),
		// A person mistyping gets 5 free tries, then 1 s doubling to 15 min; an address,
		// which many people may share, 20.
		users:   password.NewLimiter(password.Backoff{Free: 5, Base: time.Second, Max: 15 * time.Minute, Forget: time.Hour}, 100_000),
		sources: password.NewLimiter(password.Backoff{Free: 20, Base: time.Second, Max: 15 * time.Minute, Forget: time.Hour}, 100_000),
	}
}

func userLimitKey(account, userName string) string { return account + "/" + store.NameKey(userName) }

// wait is how long an attempt for the user from source must still wait.
func (g *passwordGuard) wait(account, userName, source string, now time.Time) time.Duration {
	d := g.users.Wait(userLimitKey(account, userName), now)
	if source != "" {
		d = max(d, g.sources.Wait(password.SourceKey(source), now))
	}
	return d
}

// fail records a wrong password for the user from source.
func (g *passwordGuard) fail(account, userName, source string, now time.Time) {
	g.users.Fail(userLimitKey(account, userName), now)
	if source != "" {
		g.sources.Fail(password.SourceKey(source), now)
	}
}

// succeed forgets the user's failures. The source's stay: one good password of its own must
// not let an address go on guessing others'.
func (g *passwordGuard) succeed(account, userName string) {
	g.users.Succeed(userLimitKey(account, userName))
}

func (s *Service) loginProfileOperations() []operation {
	return []operation{
		{"CreateLoginProfile", awsquery.Handle(s.CreateLoginProfile)},
		{"GetLoginProfile", awsquery.Handle(s.GetLoginProfile)},
		{"UpdateLoginProfile", awsquery.Handle(s.UpdateLoginProfile)},
		{"DeleteLoginProfile", awsquery.Handle(s.DeleteLoginProfile)},
		{"ChangePassword", awsquery.Handle(s.ChangePassword)},
	}
}

// writePasswords runs fn in a write transaction. Login profiles, password history and the
// password policy are read fresh by whoever needs them, so no cache is invalidated (as for
// RecordKeyUse).
func (s *Service) writePasswords(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return s.internal(ctx, s.store.Update(ctx, fn))
}

func noSuchLoginProfile(userName string) error {
	return awsquery.NoSuchEntity("Login Profile for User %s cannot be found.", userName)
}

func sdkLoginProfile(u *store.User, lp *store.LoginProfile) *types.LoginProfile {
	return &types.LoginProfile{UserName: aws.String(u.Name), CreateDate: aws.Time(lp.CreateDate), PasswordResetRequired: lp.PasswordResetRequired}
}

// profileUser is the user a login profile operation names: UserName, or the calling IAM user
// when it is omitted. Other callers must name one (AWS lets the root user omit it only in an
// AssumeRoot session, which Gatehouse does not issue).
func profileUser(ctx context.Context, tx store.Tx, p *principal.Principal, userName *string) (*store.User, error) {
	if name := aws.ToString(userName); name != "" {
		return loadUser(ctx, tx, p.Account, name)
	}
	if p.Type != principal.User {
		return nil, awsquery.ValidationError("Must specify userName when calling with non-User credentials")
	}
	u, _, err := store.LoadByID[store.User](ctx, tx, store.KindUser, p.UserID)
	if isNotFound(err) {
		return nil, noSuchUser(p.UserName)
	}
	return u, err
}

func loadLoginProfile(ctx context.Context, tx store.Tx, account, userID string) (*store.LoginProfile, error) {
	lp, err := store.Load[store.LoginProfile](ctx, tx, store.KindLoginProfile, account, userID)
	if isNotFound(err) {
		return nil, nil
	}
	return lp, err
}

// loadUserProfile reads the user a login profile operation names and its login profile,
// answering NoSuchEntity when it has none.
func loadUserProfile(ctx context.Context, tx store.Tx, p *principal.Principal, userName *string) (*store.User, *store.LoginProfile, error) {
	u, err := profileUser(ctx, tx, p, userName)
	if err != nil {
		return nil, nil, err
	}
	lp, err := loadLoginProfile(ctx, tx, p.Account, u.ID)
	if err == nil && lp == nil {
		err = noSuchLoginProfile(u.Name)
	}
	return u, lp, err
}

// CreateLoginProfile gives a user a console password, which must satisfy the account's
// password policy (or AWS's default one).
func (s *Service) CreateLoginProfile(ctx context.Context, in *iam.CreateLoginProfileInput) (*iam.CreateLoginProfileOutput, error) {
	if in.Password == nil {
		// Optional in the model only for AssumeRoot sessions; required for everyone else.
		return nil, awsquery.ValidationError("1 validation error detected: Value null at 'password' failed to satisfy constraint: Member must not be null")
	}
	u, lp, err := s.setPassword(ctx, passwordChange{userName: in.UserName, password: *in.Password, create: true, resetRequired: aws.Bool(in.PasswordResetRequired)})
	if err != nil {
		return nil, err
	}
	return &iam.CreateLoginProfileOutput{LoginProfile: sdkLoginProfile(u, lp)}, nil
}

// GetLoginProfile describes a user's console password (never the password).
func (s *Service) GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput) (*iam.GetLoginProfileOutput, error) {
	p := caller(ctx)
	var out *iam.GetLoginProfileOutput
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		u, lp, err := loadUserProfile(ctx, tx, p, in.UserName)
		if err != nil {
			return err
		}
		out = &iam.GetLoginProfileOutput{LoginProfile: sdkLoginProfile(u, lp)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateLoginProfile sets a user's password, its PasswordResetRequired flag, or both; an
// omitted member stays as it is.
func (s *Service) UpdateLoginProfile(ctx context.Context, in *iam.UpdateLoginProfileInput) (*iam.UpdateLoginProfileOutput, error) {
	if in.Password != nil {
		if _, _, err := s.setPassword(ctx, passwordChange{userName: in.UserName, password: *in.Password, resetRequired: in.PasswordResetRequired}); err != nil {
			return nil, err
		}
		return &iam.UpdateLoginProfileOutput{}, nil
	}
	p := caller(ctx)
	err := s.writePasswords(ctx, func(ctx context.Context, tx store.Tx) error {
		_, lp, err := loadUserProfile(ctx, tx, p, in.UserName)
		if err != nil || in.PasswordResetRequired == nil {
			return err
		}
		lp.PasswordResetRequired = *in.PasswordResetRequired
		return tx.Replace(ctx, loginProfileRecord(p.Account, lp))
	})
	if err != nil {
		return nil, err
	}
	return &iam.UpdateLoginProfileOutput{}, nil
}

// DeleteLoginProfile removes a user's console password. Its history stays for
// PasswordReusePrevention.
func (s *Service) DeleteLoginProfile(ctx context.Context, in *iam.DeleteLoginProfileInput) (*iam.DeleteLoginProfileOutput, error) {
	p := caller(ctx)
	err := s.writePasswords(ctx, func(ctx context.Context, tx store.Tx) error {
		u, err := profileUser(ctx, tx, p, in.UserName)
		if err != nil {
			return err
		}
		err = tx.Delete(ctx, store.KindLoginProfile, p.Account, u.ID)
		if isNotFound(err) {
			return noSuchLoginProfile(u.Name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteLoginProfileOutput{}, nil
}

// ChangePassword changes the calling IAM user's own password, given the current one. Only IAM
// users have one (the root user's console password is not an IAM login profile): other callers
// get InvalidUserType (aws-cli's change-password example). Wrong old passwords count toward the
// sign-in limits; a user or address over them gets LimitExceeded. PasswordResetRequired is
// cleared. HardExpiry does not stop it: AWS lets users with iam:ChangePassword reset an
// expired password through the API (IAM API Reference, PasswordPolicy.HardExpiry).
func (s *Service) ChangePassword(ctx context.Context, in *iam.ChangePasswordInput) (*iam.ChangePasswordOutput, error) {
	p := caller(ctx)
	if p.Type != principal.User {
		return nil, awsquery.Errorf(http.StatusBadRequest, "InvalidUserType", "Only IAM users can change their password with ChangePassword; use UpdateLoginProfile to set an IAM user's password.")
	}
	facts, _ := enforce.RequestFactsFrom(ctx)
	_, _, err := s.setPassword(ctx, passwordChange{password: *in.NewPassword, old: in.OldPassword, source: facts.SourceIP, resetRequired: aws.Bool(false)})
	if err != nil {
		return nil, err
	}
	return &iam.ChangePasswordOutput{}, nil
}

// passwordChange is one password being set.
type passwordChange struct {
	userName *string // nil: the calling user
	password string
	// create: the user must not have a login profile yet (CreateLoginProfile); otherwise it
	// must have one.
	create bool
	// old, when set, must be the current password (ChangePassword), checked within the
	// limits of failed attempts from source.
	old    *string
	source string
	// resetRequired sets PasswordResetRequired; nil leaves it.
	resetRequired *bool
}

// passwordState is what setting a password reads.
type passwordState struct {
	user    *store.User
	profile *store.LoginProfile
	history *store.PasswordHistory
	policy  *store.PasswordPolicy
}

func (s *Service) readPasswordState(ctx context.Context, tx store.Tx, p *principal.Principal, userName *string) (*passwordState, error) {
	u, err := profileUser(ctx, tx, p, userName)
	if err != nil {
		return nil, err
	}
	st := &passwordState{user: u}
	if st.profile, err = loadLoginProfile(ctx, tx, p.Account, u.ID); err != nil {
		return nil, err
	}
	if st.policy, err = loadPasswordPolicy(ctx, tx, p.Account); err != nil {
		return nil, err
	}
	st.history, err = store.Load[store.PasswordHistory](ctx, tx, store.KindPasswordHistory, p.Account, u.ID)
	if isNotFound(err) {
		st.history, err = nil, nil
	}
	return st, err
}

// setPassword sets a user's password as ch says and returns the user and its login profile.
// A password changed concurrently by another request is retried, then refused with
// EntityTemporarilyUnmodifiable.
func (s *Service) setPassword(ctx context.Context, ch passwordChange) (*store.User, *store.LoginProfile, error) {
	p := caller(ctx)
	name := aws.ToString(ch.userName)
	for range 3 {
		var st *passwordState
		err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
			st, err = s.readPasswordState(ctx, tx, p, ch.userName)
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		name = st.user.Name
		switch {
		case ch.create && st.profile != nil:
			return nil, nil, awsquery.EntityAlreadyExists("Login Profile for user %s already exists.", st.user.Name)
		case !ch.create && st.profile == nil:
			return nil, nil, noSuchLoginProfile(st.user.Name)
		}
		if ch.old != nil {
			if err := s.checkOldPassword(ctx, p.Account, st, *ch.old, ch.source); err != nil {
				return nil, nil, err
			}
		}
		hash, err := s.newPasswordHash(ctx, st, ch.password)
		if err != nil {
			return nil, nil, err
		}
		var lp *store.LoginProfile
		changed := false
		err = s.writePasswords(ctx, func(ctx context.Context, tx store.Tx) error {
			now, err := s.readPasswordState(ctx, tx, p, ch.userName)
			if err != nil {
				return err
			}
			if !sameProfile(st, now) {
				changed = true
				return errConcurrentPasswordChange
			}
			lp = writtenProfile(now.profile, now.user.ID, hash, ch.resetRequired, s.timestamp())
			hist := &store.PasswordHistory{Salt: hash.Salt, Hashes: []string{hash.String()}}
			if now.history != nil {
				hist.Hashes = append(hist.Hashes, now.history.Hashes[:min(len(now.history.Hashes), maxPasswordHistory-1)]...)
			}
			if err := putRecord(ctx, tx, loginProfileRecord(p.Account, lp)); err != nil {
				return err
			}
			return putRecord(ctx, tx, store.Record{Account: p.Account, Kind: store.KindPasswordHistory, Key: now.user.ID, Data: store.Encode(hist)})
		})
		if changed {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		return st.user, lp, nil
	}
	return nil, nil, awsquery.Errorf(http.StatusConflict, "EntityTemporarilyUnmodifiable", "Login Profile for User %s cannot be modified while another request changes it; try again.", name)
}

var errConcurrentPasswordChange = fmt.Errorf("iam: password changed concurrently")

// sameProfile reports whether the login profile and history are as they were when the
// password was checked and hashed.
func sameProfile(a, b *passwordState) bool {
	if a.user.ID != b.user.ID || (a.profile == nil) != (b.profile == nil) || (a.history == nil) != (b.history == nil) {
		return false
	}
	if a.profile != nil && a.profile.Hash != b.profile.Hash {
		return false
	}
	return a.history == nil || (len(a.history.Hashes) == len(b.history.Hashes) && (len(a.history.Hashes) == 0 || a.history.Hashes[0] == b.history.Hashes[0]))
}

// writtenProfile is the login profile after a password change at now.
func writtenProfile(old *store.LoginProfile, userID string, hash password.Hash, resetRequired *bool, now time.Time) *store.LoginProfile {
	lp := &store.LoginProfile{UserID: userID, CreateDate: now}
	if old != nil {
		*lp = *old
	}
	lp.Hash, lp.ChangedAt = hash.String(), now
	if resetRequired != nil {
		lp.PasswordResetRequired = *resetRequired
	}
	return lp
}

func loginProfileRecord(account string, lp *store.LoginProfile) store.Record {
	return store.Record{Account: account, Kind: store.KindLoginProfile, Key: lp.UserID, Data: store.Encode(lp)}
}

// putRecord inserts rec or replaces the record it supersedes.
func putRecord(ctx context.Context, tx store.Tx, rec store.Record) error {
	err := tx.Replace(ctx, rec)
	if isNotFound(err) {
		return tx.Insert(ctx, rec)
	}
	return err
}

// checkOldPassword verifies ChangePassword's OldPassword within the limits of failed attempts.
func (s *Service) checkOldPassword(ctx context.Context, account string, st *passwordState, old, source string) error {
	now := s.now()
	if d := s.passwords.wait(account, st.user.Name, source, now); d > 0 {
		return awsquery.LimitExceeded("Too many wrong passwords for user %s; try again in %s.", st.user.Name, seconds(d))
	}
	ok, err := s.passwords.hasher.Verify(ctx, old, st.profile.Hash)
	if err != nil {
		return s.internal(ctx, fmt.Errorf("verify the password of user %s: %w", st.user.ID, err))
	}
	if !ok {
		s.passwords.fail(account, st.user.Name, source, now)
		return awsquery.AccessDenied("The old password is incorrect.")
	}
	s.passwords.succeed(account, st.user.Name)
	return nil
}

// seconds writes d rounded up to whole seconds: "1 second", "30 seconds".
func seconds(d time.Duration) string {
	n := int(math.Ceil(d.Seconds()))
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}

// newPasswordHash checks pw against the password policy, hashes it with the user's history
// salt and checks it against the passwords PasswordReusePrevention remembers.
func (s *Service) newPasswordHash(ctx context.Context, st *passwordState, pw string) (password.Hash, error) {
	if err := checkPasswordRules(st.policy, pw); err != nil {
		return password.Hash{}, err
	}
	var salt []byte
	if st.history != nil {
		salt = st.history.Salt
	} else {
		var err error
		if salt, err = password.NewSalt(); err != nil {
			return password.Hash{}, s.internal(ctx, err)
		}
	}
	hash, err := s.passwords.hasher.Derive(ctx, pw, salt)
	if err != nil {
		return password.Hash{}, err
	}
	if st.policy == nil || st.policy.PasswordReusePrevention == 0 || st.history == nil {
		return hash, nil
	}
	n := int(st.policy.PasswordReusePrevention)
	for _, h := range st.history.Hashes[:min(n, len(st.history.Hashes))] {
		prev, err := password.Parse(h)
		if err != nil {
			return password.Hash{}, s.internal(ctx, fmt.Errorf("password history of user %s: %w", st.user.ID, err))
		}
		same := prev.Equal(hash)
		if prev.Params != hash.Params || subtle.ConstantTimeCompare(prev.Salt, hash.Salt) != 1 {
			// Hashed with other parameters (older defaults): derive again to compare.
			if same, err = s.matches(ctx, prev, pw); err != nil {
				return password.Hash{}, err
			}
		}
		if same {
			return password.Hash{}, passwordPolicyViolation(fmt.Sprintf("it must not be one of the user's %d most recent passwords", n))
		}
	}
	return hash, nil
}

// matches is Hash.Matches in a hasher slot.
func (s *Service) matches(ctx context.Context, h password.Hash, pw string) (bool, error) {
	ok, err := s.passwords.hasher.Verify(ctx, pw, h.String())
	if err != nil {
		return false, s.internal(ctx, err)
	}
	return ok, nil
}

// deletePasswordHistory removes a user's password history, for DeleteUser (which refuses while
// the user has a login profile).
func deletePasswordHistory(ctx context.Context, tx store.Tx, account, userID string) error {
	if err := tx.Delete(ctx, store.KindPasswordHistory, account, userID); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// hasLoginProfile reports whether a user has a console password.
func hasLoginProfile(ctx context.Context, tx store.Tx, account, userID string) (bool, error) {
	_, err := tx.Get(ctx, store.KindLoginProfile, account, userID)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// selfServiceGrant reports whether the account's password policy lets p perform action with no
// policy allowing it: AllowUsersToChangePassword "gives IAM users permissions to
// iam:ChangePassword for only their user and to the iam:GetAccountPasswordPolicy action ...
// applied at the account-level for all users by IAM" (IAM API Reference, PasswordPolicy).
// ChangePassword always acts on the caller, so "only their user" holds by construction.
func (s *Service) selfServiceGrant(ctx context.Context, p *principal.Principal, action string) (bool, error) {
	if p.Type != principal.User || (action != "iam:ChangePassword" && action != "iam:GetAccountPasswordPolicy") {
		return false, nil
	}
	var pp *store.PasswordPolicy
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		pp, err = loadPasswordPolicy(ctx, tx, p.Account)
		return err
	})
	return pp != nil && pp.AllowUsersToChangePassword, err
}
