package iam

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/session"
)

// TestAnswersAsAWS checks the handlers' answers that follow AWS's own, each recorded by
// LocalStack against AWS (localstack/localstack tests/aws/services/iam/*.snapshot.json,
// February 2026; the file is named in each case).
func TestAnswersAsAWS(t *testing.T) {
	t.Parallel()
	f := gkNewFixture(t)
	ctx := f.ctx
	_, err := f.svc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
	gkCheck(t, err)
	_, err = f.svc.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	gkCheck(t, err)
	pol, err := f.svc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)})
	gkCheck(t, err)
	polARN := *pol.Policy.Arn
	missingPolicy := "arn:aws:iam::" + f.account + ":policy/TestNonExistingPolicy"
	mfa, err := f.svc.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("d")})
	gkCheck(t, err)
	missingDevice := "arn:aws:iam::" + f.account + ":mfa/nonexistent-device"
	missingProvider := OIDCProviderARN(f.account, "non-existent.example.com")
	role := principal.NewContext(context.Background(), &principal.Principal{
		Type: principal.AssumedRole, Account: f.account, ARN: "arn:aws:sts::" + f.account + ":assumed-role/r/s", UserID: "AROAEXAMPLE:s",
		Session: &principal.Session{RoleID: "AROAEXAMPLE", RoleName: "r", SessionName: "s"},
	})

	cases := []struct {
		name, code, msg string
		call            func() error
	}{
		// test_iam_groups.snapshot.json: remove-from-unknown-group (neither exists),
		// add-unknown-user, add-user-unknown-group.
		{"remove neither exists", "NoSuchEntity", "The user with name any-user cannot be found.", func() error {
			_, err := f.svc.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: aws.String("any-user"), GroupName: aws.String("nogroup")})
			return err
		}},
		{"add neither exists", "NoSuchEntity", "The user with name any-user cannot be found.", func() error {
			_, err := f.svc.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("any-user"), GroupName: aws.String("nogroup")})
			return err
		}},
		{"add to unknown group", "NoSuchEntity", "The group with name nogroup cannot be found.", func() error {
			_, err := f.svc.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: aws.String("alice"), GroupName: aws.String("nogroup")})
			return err
		}},
		// test_iam_policies.snapshot.json: err-get-version-nonexistent-policy,
		// err-set-default-nonexistent-policy, err-get-nonexistent-version.
		{"version of a missing policy", "NoSuchEntity", "Policy " + missingPolicy + " version v1 does not exist or is not attachable.", func() error {
			_, err := f.svc.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(missingPolicy), VersionId: aws.String("v1")})
			return err
		}},
		{"default version of a missing policy", "NoSuchEntity", "Policy " + missingPolicy + " version v1 does not exist or is not attachable.", func() error {
			_, err := f.svc.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(missingPolicy), VersionId: aws.String("v1")})
			return err
		}},
		{"missing version", "NoSuchEntity", "Policy " + polARN + " version v9 does not exist or is not attachable.", func() error {
			_, err := f.svc.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(polARN), VersionId: aws.String("v9")})
			return err
		}},
		// test_iam_mfa.snapshot.json: create-duplicate-error, delete-nonexistent-error,
		// deactivate-nonexistent-mfa-error.
		{"duplicate device", "EntityAlreadyExists", "MFA device already exists.", func() error {
			_, err := f.svc.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("D")})
			return err
		}},
		{"delete unknown device", "NoSuchEntity", "MFA Device with serial number " + missingDevice + " does not exist.", func() error {
			_, err := f.svc.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(missingDevice)})
			return err
		}},
		{"deactivate unknown device", "NoSuchEntity", "MFA Device with serial number " + missingDevice + " does not exist.", func() error {
			_, err := f.svc.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(missingDevice)})
			return err
		}},
		// test_iam_oidc.snapshot.json: deletion-not-found-error, invalid-url.
		{"delete unknown provider", "NoSuchEntity", "OpenId connect Provider " + missingProvider + " cannot be found.", func() error {
			_, err := f.svc.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(missingProvider)})
			return err
		}},
		{"delete another account's provider", "NoSuchEntity", "OpenId connect Provider " + OIDCProviderARN("210987654321", "example.com") + " cannot be found.", func() error {
			_, err := f.svc.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(OIDCProviderARN("210987654321", "example.com"))})
			return err
		}},
		{"provider URL without https", "ValidationError", "Invalid Open ID Connect Provider URL", func() error {
			_, err := f.svc.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("example.org"), ThumbprintList: []string{"a"}})
			return err
		}},
		// test_iam_users.snapshot.json: delete-access-key-without-username-error.
		{"delete key from a role session", "ValidationError", "Must specify userName when calling with non-User credentials", func() error {
			_, err := f.svc.DeleteAccessKey(role, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String("AKIAIOSFODNN7EXAMPLE")})
			return err
		}},
		{"update key from a role session", "ValidationError", "Must specify userName when calling with non-User credentials", func() error {
			_, err := f.svc.UpdateAccessKey(role, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String("AKIAIOSFODNN7EXAMPLE"), Status: types.StatusTypeInactive})
			return err
		}},
		// test_iam_mfa.snapshot.json: list-invalid-marker-error.
		{"marker not issued", "ValidationError", "Invalid Marker.", func() error {
			_, err := f.svc.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{Marker: aws.String("not a marker")})
			return err
		}},
		{"ListOrganizationsFeatures", "OrganizationNotFoundException", "The request was rejected because no organization is associated with your account.", func() error {
			_, err := f.svc.ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
			return err
		}},
	}
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			e := awsquery.AsError(c.call())
			if e == nil || e.Code != c.code || e.Message != c.msg {
				t.Fatalf("got %v, want %s: %s", e, c.code, c.msg)
			}
		})
	}

	// The failed requests changed nothing: the device and the policy are as they were.
	devices, err := f.svc.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{})
	gkCheck(t, err)
	if len(devices.VirtualMFADevices) != 1 || *devices.VirtualMFADevices[0].SerialNumber != *mfa.VirtualMFADevice.SerialNumber {
		t.Errorf("devices after the failures: %+v", devices.VirtualMFADevices)
	}
	got, err := f.svc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(polARN)})
	gkCheck(t, err)
	// test_iam_policies.snapshot.json get-without-tags: an untagged policy has Tags [].
	if got.Policy.Tags == nil || len(got.Policy.Tags) != 0 || *got.Policy.DefaultVersionId != "v1" {
		t.Errorf("GetPolicy = Tags %#v, default %s; want an empty, non-nil Tags and v1", got.Policy.Tags, *got.Policy.DefaultVersionId)
	}
	managed, err := f.svc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
	gkCheck(t, err)
	if managed.Policy.Tags == nil {
		t.Error("GetPolicy of an AWS-managed policy has no Tags element")
	}
	if created := pol.Policy.Tags; created != nil {
		t.Errorf("CreatePolicy without tags returned Tags %#v; AWS leaves them out", created)
	}
}

// TestDenialsEncodedOnlyOutsideIAMAndSTS checks that IAM's and STS's AccessDenied messages are
// AWS's text alone, while other services' carry an encoded authorization message that the
// deployment's keys open: "Only certain AWS operations return an encoded authorization
// message. The documentation for an individual operation indicates whether that operation
// returns an encoded message" (STS API Reference, DecodeAuthorizationMessage).
func TestDenialsEncodedOnlyOutsideIAMAndSTS(t *testing.T) {
	t.Parallel()
	st, box, logger := testBackend(t)
	keys := session.NewKeyring(st, box, time.Now, logger, session.Options{})
	svc := New(st, box, time.Now, &gkIDs{}, logger, enforce.New(st, box, time.Now, logger).WithDenialEncoder(keys))
	ctx := context.Background()
	creds, err := svc.CreateAccount(ctx, AccountCredentials{})
	gkCheck(t, err)
	root := principal.NewContext(ctx, &principal.Principal{Type: principal.Root, Account: creds.AccountID, ARN: "arn:aws:iam::" + creds.AccountID + ":root", UserID: creds.AccountID})
	u, err := svc.CreateUser(root, &iam.CreateUserInput{UserName: aws.String("nobody")})
	gkCheck(t, err)
	nobody := principal.NewContext(ctx, &principal.Principal{Type: principal.User, Account: creds.AccountID, ARN: *u.User.Arn, UserID: *u.User.UserId, UserName: "nobody"})

	for _, action := range []string{"iam:ListUsers", "sts:DecodeAuthorizationMessage"} {
		e := awsquery.AsError(svc.enforcer.Authorize(nobody, enforce.Access{Action: action}))
		if e == nil || e.Code != "AccessDenied" || strings.Contains(e.Message, "Encoded authorization failure message") {
			t.Errorf("%s: %v, want AccessDenied with AWS's text alone", action, e)
		}
	}
	e := awsquery.AsError(svc.enforcer.Authorize(nobody, enforce.Access{Action: "ec2:RunInstances"}))
	if e == nil || e.Code != "AccessDenied" {
		t.Fatalf("ec2:RunInstances: %v, want AccessDenied", e)
	}
	_, encoded, ok := strings.Cut(e.Message, " Encoded authorization failure message: ")
	if !ok {
		t.Fatalf("ec2:RunInstances: no encoded message in %q", e.Message)
	}
	msg, err := keys.DecodeAuthorizationMessage(ctx, encoded)
	if err != nil || !strings.Contains(msg, `"action":"ec2:RunInstances"`) {
		t.Errorf("decoded %q, %v; want the denied ec2:RunInstances", msg, err)
	}
}
