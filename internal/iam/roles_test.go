package iam

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

func TestSDKRoleViews(t *testing.T) {
	t.Parallel()
	used := time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)
	r := &store.Role{
		ID: "AROAEXAMPLE", Name: "R", Path: "/p/", CreateDate: used,
		AssumeRolePolicyDocument: `{"a": "b c"}`, Description: "d", MaxSessionDuration: 7200,
		PermissionsBoundary: "arn:aws:iam::123456789012:policy/b", Tags: []store.Tag{{Key: "k", Value: "v"}},
		LastUsedDate: &used, LastUsedRegion: "eu-west-1",
	}
	for _, tc := range []struct {
		name                                          string
		view                                          roleView
		maxSession, lastUsed, boundary, tags, descrip bool
	}{
		// AWS's CreateRole answer has no MaxSessionDuration or RoleLastUsed; ListRoles leaves out
		// PermissionsBoundary, RoleLastUsed and Tags; GetRole has everything.
		{"view=created", roleCreated, false, false, true, true, true},
		{"view=listed", roleListed, true, false, false, false, true},
		{"view=full", roleFull, true, true, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sdkRole("123456789012", r, tc.view)
			if (got.MaxSessionDuration != nil) != tc.maxSession || (got.RoleLastUsed != nil) != tc.lastUsed ||
				(got.PermissionsBoundary != nil) != tc.boundary || (got.Tags != nil) != tc.tags || (got.Description != nil) != tc.descrip {
				t.Errorf("members: MaxSessionDuration=%v RoleLastUsed=%v PermissionsBoundary=%v Tags=%v Description=%v",
					got.MaxSessionDuration, got.RoleLastUsed, got.PermissionsBoundary, got.Tags, got.Description)
			}
			if *got.Arn != "arn:aws:iam::123456789012:role/p/R" {
				t.Errorf("Arn = %s", *got.Arn)
			}
			if *got.AssumeRolePolicyDocument != "%7B%22a%22%3A%20%22b%20c%22%7D" {
				t.Errorf("document = %s, want it percent-encoded with %%20 for spaces", *got.AssumeRolePolicyDocument)
			}
			if tc.lastUsed && (!got.RoleLastUsed.LastUsedDate.Equal(used) || aws.ToString(got.RoleLastUsed.Region) != "eu-west-1") {
				t.Errorf("RoleLastUsed = %+v", got.RoleLastUsed)
			}
		})
	}
}

func TestValidateTrustPolicy(t *testing.T) {
	t.Parallel()
	doc := func(nonSpace int) string {
		head, tail := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"`, `"}}]}`
		return head + strings.Repeat("s", nonSpace-len(head)-len(tail)) + tail
	}
	for _, tc := range []struct {
		name, doc, code string
	}{
		{"size=small", doc(200), ""},
		{"size=at quota", doc(maxTrustPolicySize), ""},
		{"size=at quota with white space", strings.ReplaceAll(doc(maxTrustPolicySize), `",`, "\",\n\t"), ""},
		{"size=over quota", doc(maxTrustPolicySize + 1), "LimitExceeded"},
		{"json=broken", `{"Statement": [`, "MalformedPolicyDocument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := gkCode(t, validateTrustPolicy(tc.doc)); got != tc.code {
				t.Errorf("validateTrustPolicy = %q, want %q", got, tc.code)
			}
		})
	}
}

func TestRecordRoleUse(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	created, err := f.svc.CreateRole(f.ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust)})
	gkCheck(t, err)

	got, err := f.svc.GetRole(f.ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	gkCheck(t, err)
	if got.Role.RoleLastUsed == nil || got.Role.RoleLastUsed.LastUsedDate != nil || got.Role.RoleLastUsed.Region != nil {
		t.Fatalf("unused role: RoleLastUsed = %+v", got.Role.RoleLastUsed)
	}
	doc, err := url.QueryUnescape(*got.Role.AssumeRolePolicyDocument)
	if err != nil || doc != trust {
		t.Errorf("trust policy = %q (%v)", doc, err)
	}

	at := time.Date(2026, 3, 2, 9, 30, 15, 500, time.UTC)
	gkCheck(t, f.svc.RecordRoleUse(f.ctx, f.account, *created.Role.RoleId, "ap-south-1", at))
	// Another account's role id, or a deleted role, is silently ignored.
	gkCheck(t, f.svc.RecordRoleUse(f.ctx, "999999999999", *created.Role.RoleId, "us-east-1", at.Add(time.Hour)))
	gkCheck(t, f.svc.RecordRoleUse(f.ctx, f.account, "AROANOSUCHROLE", "us-east-1", at))

	got, err = f.svc.GetRole(f.ctx, &iam.GetRoleInput{RoleName: aws.String("R")})
	gkCheck(t, err)
	lu := got.Role.RoleLastUsed
	if lu == nil || lu.LastUsedDate == nil || !lu.LastUsedDate.Equal(at.Truncate(time.Second)) || aws.ToString(lu.Region) != "ap-south-1" {
		t.Errorf("RoleLastUsed = %+v", lu)
	}
}
