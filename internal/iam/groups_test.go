package iam

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// gkIDs is a deterministic IDSource: every id is its prefix and a counter.
type gkIDs struct{ n atomic.Int64 }

func (g *gkIDs) next() int64 { return g.n.Add(1) }

func (g *gkIDs) UniqueID(prefix string) string { return fmt.Sprintf("%s%017d", prefix, g.next()) }
func (g *gkIDs) AccessKeyID(prefix string) string {
	return fmt.Sprintf("%s%016d", prefix, g.next())
}
func (g *gkIDs) SecretAccessKey() string { return fmt.Sprintf("secret%034d", g.next()) }
func (g *gkIDs) AccountID() string       { return fmt.Sprintf("%012d", 100000000000+g.next()) }

// gkFixture is a Service over a real SQLite file with one account, and a context in which its
// root user calls.
type gkFixture struct {
	svc     *Service
	store   store.Store
	account string
	rootKey string
	ctx     context.Context
	now     time.Time
}

func gkNewFixture(t testing.TB) *gkFixture {
	t.Helper()
	ctx := context.Background()
	st, box, logger := testBackend(t)
	f := &gkFixture{store: st, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.svc = New(st, box, func() time.Time { return f.now }, &gkIDs{}, logger, enforce.New(st, box, func() time.Time { return f.now }, logger))
	creds, err := f.svc.CreateAccount(ctx, AccountCredentials{})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	f.account, f.rootKey = creds.AccountID, creds.AccessKeyID
	f.ctx = principal.NewContext(ctx, &principal.Principal{
		Type: principal.Root, Account: f.account, ARN: "arn:aws:iam::" + f.account + ":root", UserID: f.account, AccessKeyID: f.rootKey,
	})
	return f
}

// as returns a context in which the IAM user name of f's account calls.
func (f *gkFixture) as(t *testing.T, name string) context.Context {
	t.Helper()
	u, err := f.svc.GetUser(f.ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return principal.NewContext(context.Background(), &principal.Principal{
		Type: principal.User, Account: f.account, ARN: *u.User.Arn, UserID: *u.User.UserId, UserName: name,
	})
}

// gkCode returns the AWS error code of err, or "" for nil.
func gkCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *awsquery.Error
	if !errors.As(err, &e) {
		t.Fatalf("error is not an AWS error: %v", err)
	}
	return e.Code
}

func gkCheck(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func TestAfter(t *testing.T) {
	t.Parallel()
	id := func(s string) string { return s }
	items := []string{"a", "c", "e"}
	for _, tc := range []struct {
		marker string
		want   []string
	}{
		{"", []string{"a", "c", "e"}},
		{"a", []string{"c", "e"}},
		{"b", []string{"c", "e"}},
		{"e", []string{}},
		{"z", []string{}},
		{"0", []string{"a", "c", "e"}},
	} {
		t.Run("marker="+tc.marker, func(t *testing.T) {
			got := after(items, tc.marker, id)
			if len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
				t.Errorf("after(%q) = %v, want %v", tc.marker, got, tc.want)
			}
		})
	}
}

func TestGroupMembershipPages(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	_, err := f.svc.CreateGroup(f.ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	gkCheck(t, err)
	// Names are listed in case-insensitive order whatever the order of joining.
	names := []string{"Zed", "amy", "Bob", "carl", "Dora"}
	for _, n := range names {
		_, err := f.svc.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String(n)})
		gkCheck(t, err)
		_, err = f.svc.AddUserToGroup(f.ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String(n)})
		gkCheck(t, err)
	}
	for _, tc := range []struct {
		name     string
		maxItems int32
		pages    [][]string
	}{
		{"max=1", 1, [][]string{{"amy"}, {"Bob"}, {"carl"}, {"Dora"}, {"Zed"}}},
		{"max=2", 2, [][]string{{"amy", "Bob"}, {"carl", "Dora"}, {"Zed"}}},
		{"max=5", 5, [][]string{{"amy", "Bob", "carl", "Dora", "Zed"}}},
		{"max=100", 100, [][]string{{"amy", "Bob", "carl", "Dora", "Zed"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var marker *string
			for i, want := range tc.pages {
				out, err := f.svc.GetGroup(f.ctx, &iam.GetGroupInput{GroupName: aws.String("DEVS"), MaxItems: aws.Int32(tc.maxItems), Marker: marker})
				gkCheck(t, err)
				var got []string
				for _, u := range out.Users {
					got = append(got, *u.UserName)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("page %d = %v, want %v", i, got, want)
				}
				last := i == len(tc.pages)-1
				if out.IsTruncated == last || (out.Marker == nil) != last {
					t.Fatalf("page %d: IsTruncated=%v Marker=%v", i, out.IsTruncated, out.Marker)
				}
				marker = out.Marker
			}
		})
	}
}

func TestGroupsPerUserQuota(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	_, err := f.svc.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String("u")})
	gkCheck(t, err)
	for i := range maxGroupsPerUser + 1 {
		_, err := f.svc.CreateGroup(f.ctx, &iam.CreateGroupInput{GroupName: aws.String(fmt.Sprintf("g%d", i))})
		gkCheck(t, err)
	}
	for i := range maxGroupsPerUser {
		_, err := f.svc.AddUserToGroup(f.ctx, &iam.AddUserToGroupInput{GroupName: aws.String(fmt.Sprintf("g%d", i)), UserName: aws.String("u")})
		gkCheck(t, err)
	}
	_, err = f.svc.AddUserToGroup(f.ctx, &iam.AddUserToGroupInput{GroupName: aws.String(fmt.Sprintf("g%d", maxGroupsPerUser)), UserName: aws.String("u")})
	if gkCode(t, err) != "LimitExceeded" {
		t.Fatalf("11th group: %v", err)
	}
	// Leaving one group frees a place.
	_, err = f.svc.RemoveUserFromGroup(f.ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("g0"), UserName: aws.String("u")})
	gkCheck(t, err)
	_, err = f.svc.AddUserToGroup(f.ctx, &iam.AddUserToGroupInput{GroupName: aws.String(fmt.Sprintf("g%d", maxGroupsPerUser)), UserName: aws.String("u")})
	gkCheck(t, err)
}
