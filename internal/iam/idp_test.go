package iam

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// idpFixture is a Service over a real SQLite file with one account, a clock the test sets, and
// a context in which the account's root user calls.
type idpFixture struct {
	svc     *Service
	store   store.Store
	box     *secret.Box
	account string
	ctx     context.Context
	now     time.Time
}

func newIDPFixture(t testing.TB) *idpFixture {
	t.Helper()
	ctx := context.Background()
	st, box, logger := testBackend(t)
	f := &idpFixture{store: st, box: box, now: time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)}
	f.svc = New(st, box, func() time.Time { return f.now }, RandomIDs{}, logger, enforce.New(st, box, func() time.Time { return f.now }, logger))
	creds, err := f.svc.CreateAccount(ctx, AccountCredentials{})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	f.account = creds.AccountID
	f.ctx = principal.NewContext(ctx, &principal.Principal{
		Type: principal.Root, Account: f.account, ARN: "arn:aws:iam::" + f.account + ":root", UserID: f.account, AccessKeyID: creds.AccessKeyID,
	})
	return f
}

// idpCode is the AWS error code of err, "" for nil; it fails on errors that are not AWS errors.
func idpCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	e := awsquery.AsError(err)
	if e == nil {
		t.Fatalf("not an AWS error: %v", err)
	}
	return e.Code
}

func TestARNResource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		arn, prefix   string
		account, rest string
		ok            bool
	}{
		{"arn:aws:iam::123456789012:oidc-provider/example.com/a", "oidc-provider/", "123456789012", "example.com/a", true},
		{"arn:aws:iam::123456789012:saml-provider/Okta", "saml-provider/", "123456789012", "Okta", true},
		{"arn:aws:iam::123456789012:mfa/ops/alice", "mfa/", "123456789012", "ops/alice", true},
		{"arn:aws:iam::123456789012:saml-provider/", "saml-provider/", "", "", false},
		{"arn:aws:iam::123456789012:role/Okta", "saml-provider/", "", "", false},
		{"arn:aws:iam::12345:saml-provider/Okta", "saml-provider/", "", "", false},
		{"arn:aws:sts::123456789012:saml-provider/Okta", "saml-provider/", "", "", false},
		{"arn:aws:iam::123456789012", "saml-provider/", "", "", false},
		{"GAHT12345678", "mfa/", "", "", false},
	} {
		t.Run(tc.arn, func(t *testing.T) {
			account, rest, ok := arnResource(tc.arn, tc.prefix)
			if account != tc.account || rest != tc.rest || ok != tc.ok {
				t.Fatalf("arnResource = %q %q %v, want %q %q %v", account, rest, ok, tc.account, tc.rest, tc.ok)
			}
		})
	}
}

func TestOIDCURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want, why string
	}{
		{"https://token.actions.githubusercontent.com", "token.actions.githubusercontent.com", ""},
		{"https://oidc.eks.us-west-2.amazonaws.com/id/ABCDEF", "oidc.eks.us-west-2.amazonaws.com/id/ABCDEF", ""},
		{"https://example.com/", "example.com", ""},
		{"HTTPS://example.com", "example.com", ""},
		// AWS answers example.org with ValidationError "Invalid Open ID Connect Provider URL"
		// (LocalStack's recordings of AWS, test_iam_oidc.snapshot.json invalid-url).
		{"http://example.com", "", "ValidationError"},
		{"example.com", "", "ValidationError"},
		{"https://", "", "must name a host"},
		{"https://user@example.com", "", "must name a host"},
		{"https://example.com:443", "", "port"},
		{"https://example.com/?x=1", "", "query"},
		{"https://example.com/?", "", "query"},
		{"https://example.com/#top", "", "fragment"},
		{"https://exa mple.com", "", "not a valid URL"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := oidcURL(tc.in)
			if tc.why == "" {
				if err != nil || got != tc.want {
					t.Fatalf("oidcURL = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if tc.why == "ValidationError" {
				if e := awsquery.AsError(err); e == nil || e.Code != "ValidationError" || e.Message != "Invalid Open ID Connect Provider URL" {
					t.Fatalf("oidcURL error = %v, want ValidationError Invalid Open ID Connect Provider URL", err)
				}
				return
			}
			if e := awsquery.AsError(err); e == nil || e.Code != "InvalidInput" || !strings.Contains(e.Message, tc.why) {
				t.Fatalf("oidcURL error = %v, want InvalidInput saying %q", err, tc.why)
			}
		})
	}
}

func TestOIDCThumbprints(t *testing.T) {
	t.Parallel()
	a, b := strings.Repeat("a", 40), strings.Repeat("B", 40)
	for _, tc := range []struct {
		name string
		in   []string
		want string
		code string
	}{
		{"none", nil, "", ""},
		{"lower-cased and de-duplicated", []string{b, a, strings.ToLower(b)}, strings.ToLower(b) + "," + a, ""},
		{"five", []string{a, a, a, a, a}, a, ""},
		{"six", []string{a, a, a, a, a, a}, "", "InvalidInput"},
		{"not hex", []string{strings.Repeat("x", 40)}, "", "InvalidInput"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := oidcThumbprints(tc.in)
			if code := idpCode(t, err); code != tc.code || (err == nil && strings.Join(got, ",") != tc.want) {
				t.Fatalf("oidcThumbprints = %v, %v; want %q, %q", got, err, tc.want, tc.code)
			}
		})
	}
}

// FuzzOIDCURL checks that oidcURL never panics and that what it accepts is a host and path
// that make a well-formed ARN.
func FuzzOIDCURL(f *testing.F) {
	for _, s := range []string{"https://example.com", "https://example.com/a/b", "http://x", "https://a:1", "https://a?b", "https://", "https://%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := oidcURL(raw)
		if err != nil {
			if awsquery.AsError(err) == nil {
				t.Fatalf("oidcURL(%q) error is not an AWS error: %v", raw, err)
			}
			return
		}
		if u == "" || strings.ContainsAny(u, "?#") {
			t.Fatalf("oidcURL(%q) = %q", raw, u)
		}
		account, rest, ok := arnResource(OIDCProviderARN("123456789012", u), oidcProviderARNPrefix)
		if !ok || account != "123456789012" || rest != u {
			t.Fatalf("ARN of %q does not parse back: %q %q %v", u, account, rest, ok)
		}
	})
}

// FuzzARNResource checks that arnResource never panics and that what it accepts rebuilds the
// ARN it came from.
func FuzzARNResource(f *testing.F) {
	for _, s := range []string{"arn:aws:iam::123456789012:mfa/a", "arn:aws:iam::123456789012:saml-provider/x", "arn:aws:iam::1:mfa/", ""} {
		f.Add(s, "mfa/")
	}
	f.Fuzz(func(t *testing.T, a, prefix string) {
		account, rest, ok := arnResource(a, prefix)
		if ok && "arn:aws:iam::"+account+":"+prefix+rest != a {
			t.Fatalf("arnResource(%q, %q) = %q %q, which does not rebuild it", a, prefix, account, rest)
		}
	})
}
