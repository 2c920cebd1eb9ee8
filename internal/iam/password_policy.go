package iam

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// passwordPolicyKey is the store key of an account's one password policy.
const passwordPolicyKey = "policy"

// Defaults of UpdateAccountPasswordPolicy for omitted members (IAM API Reference): a minimum
// length of 6, everything else off.
const defaultMinimumPasswordLength = 6

// passwordSymbols are the characters RequireSymbols counts (IAM API Reference,
// UpdateAccountPasswordPolicy: "! @ # $ % ^ & * ( ) _ + - = [ ] { } | '").
const passwordSymbols = "!@#$%^&*()_+-=[]{}|'"

// maxPasswordHistory is PasswordReusePrevention's largest value.
const maxPasswordHistory = 24

func (s *Service) passwordPolicyOperations() []operation {
	return []operation{
		{"UpdateAccountPasswordPolicy", awsquery.Handle(s.UpdateAccountPasswordPolicy)},
		{"GetAccountPasswordPolicy", awsquery.Handle(s.GetAccountPasswordPolicy)},
		{"DeleteAccountPasswordPolicy", awsquery.Handle(s.DeleteAccountPasswordPolicy)},
	}
}

// UpdateAccountPasswordPolicy replaces the account's password policy. It is not a partial
// update: an omitted member takes its default (IAM API Reference).
func (s *Service) UpdateAccountPasswordPolicy(ctx context.Context, in *iam.UpdateAccountPasswordPolicyInput) (*iam.UpdateAccountPasswordPolicyOutput, error) {
	account := caller(ctx).Account
	pp := store.PasswordPolicy{
		MinimumPasswordLength:      defaultMinimumPasswordLength,
		RequireSymbols:             in.RequireSymbols,
		RequireNumbers:             in.RequireNumbers,
		RequireUppercaseCharacters: in.RequireUppercaseCharacters,
		RequireLowercaseCharacters: in.RequireLowercaseCharacters,
		AllowUsersToChangePassword: in.AllowUsersToChangePassword,
		MaxPasswordAge:             aws.ToInt32(in.MaxPasswordAge),
		PasswordReusePrevention:    aws.ToInt32(in.PasswordReusePrevention),
		HardExpiry:                 aws.ToBool(in.HardExpiry),
	}
	if in.MinimumPasswordLength != nil {
		pp.MinimumPasswordLength = *in.MinimumPasswordLength
	}
	err := s.writePasswords(ctx, func(ctx context.Context, tx store.Tx) error {
		return putRecord(ctx, tx, store.Record{Account: account, Kind: store.KindPasswordPolicy, Key: passwordPolicyKey, Data: store.Encode(pp)})
	})
	if err != nil {
		return nil, err
	}
	return &iam.UpdateAccountPasswordPolicyOutput{}, nil
}

// loadPasswordPolicy reads the account's password policy; nil when none is set.
func loadPasswordPolicy(ctx context.Context, tx store.Tx, account string) (*store.PasswordPolicy, error) {
	pp, err := store.Load[store.PasswordPolicy](ctx, tx, store.KindPasswordPolicy, account, passwordPolicyKey)
	if isNotFound(err) {
		return nil, nil
	}
	return pp, err
}

// GetAccountPasswordPolicy returns the account's password policy. MaxPasswordAge,
// PasswordReusePrevention and HardExpiry appear only when set, as AWS shows them.
func (s *Service) GetAccountPasswordPolicy(ctx context.Context, _ *iam.GetAccountPasswordPolicyInput) (*iam.GetAccountPasswordPolicyOutput, error) {
	account := caller(ctx).Account
	var pp *store.PasswordPolicy
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		pp, err = loadPasswordPolicy(ctx, tx, account)
		return err
	})
	if err != nil {
		return nil, err
	}
	if pp == nil {
		// AWS's "domain name" is the account id (LocalStack's recording of AWS).
		return nil, awsquery.NoSuchEntity("The Password Policy with domain name %s cannot be found.", account)
	}
	out := &types.PasswordPolicy{
		MinimumPasswordLength:      aws.Int32(pp.MinimumPasswordLength),
		RequireSymbols:             pp.RequireSymbols,
		RequireNumbers:             pp.RequireNumbers,
		RequireUppercaseCharacters: pp.RequireUppercaseCharacters,
		RequireLowercaseCharacters: pp.RequireLowercaseCharacters,
		AllowUsersToChangePassword: pp.AllowUsersToChangePassword,
		ExpirePasswords:            pp.MaxPasswordAge > 0,
	}
	if pp.MaxPasswordAge > 0 {
		out.MaxPasswordAge = aws.Int32(pp.MaxPasswordAge)
	}
	if pp.PasswordReusePrevention > 0 {
		out.PasswordReusePrevention = aws.Int32(pp.PasswordReusePrevention)
	}
	if pp.HardExpiry {
		out.HardExpiry = aws.Bool(true)
	}
	return &iam.GetAccountPasswordPolicyOutput{PasswordPolicy: out}, nil
}

// DeleteAccountPasswordPolicy removes the account's password policy; the default policy
// applies again.
func (s *Service) DeleteAccountPasswordPolicy(ctx context.Context, _ *iam.DeleteAccountPasswordPolicyInput) (*iam.DeleteAccountPasswordPolicyOutput, error) {
	account := caller(ctx).Account
	err := s.writePasswords(ctx, func(ctx context.Context, tx store.Tx) error {
		err := tx.Delete(ctx, store.KindPasswordPolicy, account, passwordPolicyKey)
		if isNotFound(err) {
			// Not the text GetAccountPasswordPolicy uses (LocalStack's recording of AWS).
			return awsquery.NoSuchEntity("The account policy with name PasswordPolicy cannot be found.")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iam.DeleteAccountPasswordPolicyOutput{}, nil
}

// passwordPolicyViolation is IAM's answer to a password the policy refuses. The message begins
// with AWS's own sentence, which clients match on, and names the rule, in the words of the
// API Reference's description of the policy member.
func passwordPolicyViolation(rule string) error {
	return awsquery.Errorf(http.StatusBadRequest, "PasswordPolicyViolation", "Password does not conform to the account password policy: %s.", rule)
}

// passwordClasses counts which of AWS's four character classes pw uses.
type passwordClasses struct{ upper, lower, number, symbol bool }

func classesOf(pw string) passwordClasses {
	var c passwordClasses
	for i := 0; i < len(pw); i++ {
		switch b := pw[i]; {
		case 'A' <= b && b <= 'Z':
			c.upper = true
		case 'a' <= b && b <= 'z':
			c.lower = true
		case '0' <= b && b <= '9':
			c.number = true
		case strings.IndexByte(passwordSymbols, b) >= 0:
			c.symbol = true
		}
	}
	return c
}

// checkPasswordRules checks pw against the account's policy, or against AWS's default policy
// when the account has none (IAM User Guide, "Set an account password policy for IAM users":
// at least 8 characters and at least three of uppercase, lowercase, numbers and symbols).
// Length counts characters, not bytes: the model allows U+0000-U+00FF, sent as UTF-8.
// PasswordReusePrevention is checked where the history is (setPassword).
func checkPasswordRules(pp *store.PasswordPolicy, pw string) error {
	n := int32(len([]rune(pw)))
	c := classesOf(pw)
	if pp == nil {
		if n < 8 {
			return passwordPolicyViolation("with no password policy set, a password must have at least 8 characters")
		}
		count := 0
		for _, has := range []bool{c.upper, c.lower, c.number, c.symbol} {
			if has {
				count++
			}
		}
		if count < 3 {
			return passwordPolicyViolation("with no password policy set, a password must contain at least three of: uppercase letters (A to Z), lowercase letters (a to z), numbers (0 to 9) and the symbols " + spacedSymbols())
		}
		return nil
	}
	switch {
	case n < pp.MinimumPasswordLength:
		return passwordPolicyViolation("it must have at least " + strconv.Itoa(int(pp.MinimumPasswordLength)) + " characters")
	case pp.RequireUppercaseCharacters && !c.upper:
		return passwordPolicyViolation("it must contain at least one uppercase character from the ISO basic Latin alphabet (A to Z)")
	case pp.RequireLowercaseCharacters && !c.lower:
		return passwordPolicyViolation("it must contain at least one lowercase character from the ISO basic Latin alphabet (a to z)")
	case pp.RequireNumbers && !c.number:
		return passwordPolicyViolation("it must contain at least one numeric character (0 to 9)")
	case pp.RequireSymbols && !c.symbol:
		return passwordPolicyViolation("it must contain at least one of the following non-alphanumeric characters: " + spacedSymbols())
	}
	return nil
}

// spacedSymbols writes passwordSymbols as the API Reference does: "! @ # ... | '".
func spacedSymbols() string {
	return strings.Join(strings.Split(passwordSymbols, ""), " ")
}

// passwordExpired reports whether a password set at changed has outlived the policy's
// MaxPasswordAge (days) at now.
func passwordExpired(pp *store.PasswordPolicy, changed, now time.Time) bool {
	return pp != nil && pp.MaxPasswordAge > 0 && !now.Before(changed.AddDate(0, 0, int(pp.MaxPasswordAge)))
}
