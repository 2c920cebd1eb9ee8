package iam

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// TestCheckPasswordRules: each rule of a custom policy, and AWS's default policy when the
// account has none (IAM User Guide, "Set an account password policy for IAM users": at least 8
// characters and three of uppercase, lowercase, numbers and the symbols of RequireSymbols).
// Every refusal is PasswordPolicyViolation, opening with AWS's sentence (seen in CloudFormation
// and boto error logs: "Password does not conform to the account password policy.") and naming
// the rule in the words of the API Reference's UpdateAccountPasswordPolicy members.
func TestCheckPasswordRules(t *testing.T) {
	all := &store.PasswordPolicy{MinimumPasswordLength: 10, RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true, RequireLowercaseCharacters: true}
	for _, tc := range []struct {
		name   string
		policy *store.PasswordPolicy
		pw     string
		rule   string // "" for accepted
	}{
		{"default: 8 characters, 3 classes", nil, "abcDEF12", ""},
		{"default: 7 characters", nil, "abcDE12", "at least 8 characters"},
		{"default: two classes", nil, "abcdefgh12", "at least three of"},
		{"default: symbols count as a class", nil, "abcdef1!", ""},
		{"default: ~ is no symbol of AWS's list", nil, "abcdef1~", "at least three of"},
		{"policy: all rules met", all, "Abcdefgh1!", ""},
		{"policy: too short", all, "Abcdef1!", "at least 10 characters"},
		{"policy: no uppercase", all, "abcdefgh1!", "uppercase character from the ISO basic Latin alphabet (A to Z)"},
		{"policy: no lowercase", all, "ABCDEFGH1!", "lowercase character from the ISO basic Latin alphabet (a to z)"},
		{"policy: no number", all, "Abcdefghi!", "numeric character (0 to 9)"},
		{"policy: no symbol", all, "Abcdefghi1", "! @ # $ % ^ & * ( ) _ + - = [ ] { } | '"},
		{"policy: length in characters, not bytes", &store.PasswordPolicy{MinimumPasswordLength: 6}, "ééééé", "at least 6 characters"},
		{"policy: Latin-1 letters are no ASCII letters", &store.PasswordPolicy{MinimumPasswordLength: 6, RequireUppercaseCharacters: true}, "ÉÉÉÉÉÉ", "uppercase"},
		{"policy: nothing required but length", &store.PasswordPolicy{MinimumPasswordLength: 6}, "aaaaaa", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPasswordRules(tc.policy, tc.pw)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if azCode(err) != "PasswordPolicyViolation" || !strings.HasPrefix(azMessage(err), "Password does not conform to the account password policy") || !strings.Contains(azMessage(err), tc.rule) {
				t.Fatalf("got %v, want PasswordPolicyViolation naming %q", err, tc.rule)
			}
		})
	}
}

// TestPasswordPolicyOperations: AWS's answers as LocalStack recorded them against AWS
// (tests/aws/services/iam/test_iam_account_password_policy.snapshot.json): the defaults of an
// empty update show no MaxPasswordAge, PasswordReusePrevention or HardExpiry; every update
// replaces the whole policy; the two NoSuchEntity texts.
func TestPasswordPolicyOperations(t *testing.T) {
	f := azNew(t)
	_, err := f.svc.GetAccountPasswordPolicy(f.root, &iam.GetAccountPasswordPolicyInput{})
	if azCode(err) != "NoSuchEntity" || azMessage(err) != "The Password Policy with domain name "+f.account+" cannot be found." {
		t.Fatalf("GetAccountPasswordPolicy without a policy: %v", err)
	}
	_, err = f.svc.DeleteAccountPasswordPolicy(f.root, &iam.DeleteAccountPasswordPolicyInput{})
	if azCode(err) != "NoSuchEntity" || azMessage(err) != "The account policy with name PasswordPolicy cannot be found." {
		t.Fatalf("DeleteAccountPasswordPolicy without a policy: %v", err)
	}

	get := func() string {
		t.Helper()
		out, err := f.svc.GetAccountPasswordPolicy(f.root, &iam.GetAccountPasswordPolicyInput{})
		f.must(err)
		return awsString(out.PasswordPolicy)
	}
	_, err = f.svc.UpdateAccountPasswordPolicy(f.root, &iam.UpdateAccountPasswordPolicyInput{})
	f.must(err)
	if got, want := get(), "AllowUsersToChangePassword=false ExpirePasswords=false MinimumPasswordLength=6 RequireLowercaseCharacters=false RequireNumbers=false RequireSymbols=false RequireUppercaseCharacters=false"; got != want {
		t.Fatalf("defaults:\n got %s\nwant %s", got, want)
	}
	_, err = f.svc.UpdateAccountPasswordPolicy(f.root, &iam.UpdateAccountPasswordPolicyInput{
		AllowUsersToChangePassword: true, HardExpiry: aws.Bool(true), MaxPasswordAge: aws.Int32(60), MinimumPasswordLength: aws.Int32(10),
		PasswordReusePrevention: aws.Int32(3), RequireLowercaseCharacters: true, RequireNumbers: true, RequireSymbols: true, RequireUppercaseCharacters: true,
	})
	f.must(err)
	if got, want := get(), "AllowUsersToChangePassword=true ExpirePasswords=true HardExpiry=true MaxPasswordAge=60 MinimumPasswordLength=10 PasswordReusePrevention=3 RequireLowercaseCharacters=true RequireNumbers=true RequireSymbols=true RequireUppercaseCharacters=true"; got != want {
		t.Fatalf("custom:\n got %s\nwant %s", got, want)
	}
	// Not a partial update: what is omitted reverts to its default.
	_, err = f.svc.UpdateAccountPasswordPolicy(f.root, &iam.UpdateAccountPasswordPolicyInput{RequireNumbers: true})
	f.must(err)
	if got, want := get(), "AllowUsersToChangePassword=false ExpirePasswords=false MinimumPasswordLength=6 RequireLowercaseCharacters=false RequireNumbers=true RequireSymbols=false RequireUppercaseCharacters=false"; got != want {
		t.Fatalf("after a second update:\n got %s\nwant %s", got, want)
	}
	_, err = f.svc.DeleteAccountPasswordPolicy(f.root, &iam.DeleteAccountPasswordPolicyInput{})
	f.must(err)
	if _, err := f.svc.GetAccountPasswordPolicy(f.root, &iam.GetAccountPasswordPolicyInput{}); azCode(err) != "NoSuchEntity" {
		t.Fatalf("after delete: %v", err)
	}
}

// awsString writes a struct's members as Name=value in field order (the SDK's is alphabetical),
// leaving out nil pointers: the members a response carries.
func awsString(v any) string {
	rv := reflect.ValueOf(v).Elem()
	var parts []string
	for i := range rv.NumField() {
		f, fv := rv.Type().Field(i), rv.Field(i)
		if !f.IsExported() {
			continue
		}
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				continue
			}
			fv = fv.Elem()
		}
		parts = append(parts, fmt.Sprintf("%s=%v", f.Name, fv.Interface()))
	}
	return strings.Join(parts, " ")
}

func TestPasswordExpired(t *testing.T) {
	set := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	pp := &store.PasswordPolicy{MaxPasswordAge: 30}
	for _, tc := range []struct {
		pp   *store.PasswordPolicy
		now  time.Time
		want bool
	}{
		{nil, set.AddDate(10, 0, 0), false},
		{&store.PasswordPolicy{}, set.AddDate(10, 0, 0), false},
		{pp, set.AddDate(0, 0, 30).Add(-time.Second), false},
		{pp, set.AddDate(0, 0, 30), true},
	} {
		if got := passwordExpired(tc.pp, set, tc.now); got != tc.want {
			t.Errorf("passwordExpired(%+v, +%v) = %v, want %v", tc.pp, tc.now.Sub(set), got, tc.want)
		}
	}
}
