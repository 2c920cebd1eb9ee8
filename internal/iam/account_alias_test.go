package iam

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// aliasesOf lists an account's aliases as its root user.
func aliasesOf(t *testing.T, svc *Service, ctx context.Context) []string {
	t.Helper()
	out, err := svc.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if out.AccountAliases == nil || out.IsTruncated || out.Marker != nil {
		t.Fatalf("ListAccountAliases = %+v: want a list (never nil), not truncated", out)
	}
	return out.AccountAliases
}

// TestAccountAliasRules: AWS's pattern ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$ (IAM API
// Reference, CreateAccountAlias: lower-case letters, digits and dashes, not at either end, never
// two in a row; the decoder checks the 3..63 length) answered with IAM's own text (quoted from
// AWS in app-sre/qontract-schemas PR 824), and "it cannot be a 12 digit number" (IAM User
// Guide, "Limitations on IAM Entities"). A refused alias is not stored.
func TestAccountAliasRules(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	pattern := "The specified value for accountAlias is invalid. It must be a minimum length of 3 characters and maximum length of 63 characters, contain only digits, lowercase letters, and hyphens (-), but cannot begin or end with a hyphen."
	for _, tc := range []struct {
		alias, want string // want: "" accepted, else a part of the ValidationError
	}{
		{"abc", ""},
		{"example-corp-2", ""},
		{"123", ""},
		{"1234567890123", ""}, // 13 digits: no account id
		{strings.Repeat("a", 63), ""},
		{"Example", pattern},
		{"-abc", pattern},
		{"abc-", pattern},
		{"a--b", pattern},
		{"a_b", pattern},
		{"a.b", pattern},
		{"123456789012", "cannot be a 12-digit number"},
	} {
		t.Run(tc.alias, func(t *testing.T) {
			_, err := f.svc.CreateAccountAlias(f.root, &iam.CreateAccountAliasInput{AccountAlias: aws.String(tc.alias)})
			if tc.want == "" {
				f.must(err)
				if got := aliasesOf(t, f.svc, f.root); !reflect.DeepEqual(got, []string{tc.alias}) {
					t.Fatalf("aliases = %q, want %q", got, tc.alias)
				}
				return
			}
			before := aliasesOf(t, f.svc, f.root)
			if azCode(err) != "ValidationError" || !strings.Contains(azMessage(err), tc.want) {
				t.Fatalf("CreateAccountAlias(%q) = %v, want ValidationError with %q", tc.alias, err, tc.want)
			}
			if got := aliasesOf(t, f.svc, f.root); !reflect.DeepEqual(got, before) {
				t.Fatalf("a refused alias changed the aliases: %q -> %q", before, got)
			}
		})
	}
}

// TestAccountAliasLifecycle: one alias per account, replaced by a new one ("If you create a new
// alias for your AWS account, the new alias overwrites the previous alias", IAM User Guide);
// unique across the deployment, EntityAlreadyExists "The account alias X already exists." (AWS's
// text quoted in aws-nuke issue 697 and aws-deployment-framework PR 465); DeleteAccountAlias
// only of the account's own alias; Marker and MaxItems.
func TestAccountAliasLifecycle(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	other := f.rootCtx(f.newAccount())
	create := func(ctx context.Context, alias string) error {
		_, err := f.svc.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String(alias)})
		return err
	}
	del := func(ctx context.Context, alias string) error {
		_, err := f.svc.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String(alias)})
		return err
	}
	want := func(ctx context.Context, aliases ...string) {
		t.Helper()
		if aliases == nil {
			aliases = []string{}
		}
		if got := aliasesOf(t, f.svc, ctx); !reflect.DeepEqual(got, aliases) {
			t.Fatalf("aliases = %q, want %q", got, aliases)
		}
	}
	want(f.root)
	f.must(create(f.root, "first-corp"))
	want(f.root, "first-corp")
	f.must(create(f.root, "second-corp")) // replaces: the old alias is free again
	want(f.root, "second-corp")
	f.must(create(other, "first-corp"))
	want(other, "first-corp")

	for _, tc := range []struct {
		name  string
		ctx   context.Context
		alias string
	}{
		{"another account's alias", other, "second-corp"},
		{"the account's own alias again", f.root, "second-corp"},
	} {
		err := create(tc.ctx, tc.alias)
		if azCode(err) != "EntityAlreadyExists" || azMessage(err) != "The account alias "+tc.alias+" already exists." {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	want(f.root, "second-corp")
	want(other, "first-corp")

	for _, tc := range []struct{ name, alias string }{
		{"a name no account has", "nobody-has-it"},
		{"another account's alias", "first-corp"},
	} {
		err := del(f.root, tc.alias)
		if azCode(err) != "NoSuchEntity" || azMessage(err) != "The account alias "+tc.alias+" cannot be found." {
			t.Fatalf("DeleteAccountAlias %s: %v", tc.name, err)
		}
	}
	if err := del(f.root, "Bad"); azCode(err) != "ValidationError" {
		t.Fatalf("DeleteAccountAlias of a malformed alias: %v", err)
	}
	want(f.root, "second-corp")
	want(other, "first-corp")

	// Paging: MaxItems 1 holds the one alias; the marker of an alias starts after it; a marker
	// this server did not issue is "Invalid Marker.".
	out, err := f.svc.ListAccountAliases(f.root, &iam.ListAccountAliasesInput{MaxItems: aws.Int32(1)})
	f.must(err)
	if !reflect.DeepEqual(out.AccountAliases, []string{"second-corp"}) || out.IsTruncated {
		t.Fatalf("MaxItems 1: %+v", out)
	}
	out, err = f.svc.ListAccountAliases(f.root, &iam.ListAccountAliasesInput{Marker: encodeMarker("second-corp")})
	f.must(err)
	if len(out.AccountAliases) != 0 || out.AccountAliases == nil || out.IsTruncated {
		t.Fatalf("after the last alias: %+v", out)
	}
	_, err = f.svc.ListAccountAliases(f.root, &iam.ListAccountAliasesInput{Marker: aws.String("not a marker!")})
	if azCode(err) != "ValidationError" || azMessage(err) != "Invalid Marker." {
		t.Fatalf("foreign marker: %v", err)
	}

	f.must(del(f.root, "second-corp"))
	want(f.root)
	want(other, "first-corp")
	f.must(create(other, "second-corp")) // free after the delete
	want(other, "second-corp")
}
