package iam

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// TestServiceSpecificCredentials follows credentials of two users through every operation and
// error. AWS's behaviour: ServiceUserName USER-at-ACCOUNT, then USER+1-at-ACCOUNT for the
// second (AWS CLI examples of create- and list-service-specific-credentials); a 60-character
// password ending in "="; an unsupported service is NoSuchEntity "No such service X is
// supported for Service Specific Credentials", a missing credential "No such credential X
// exists", and DeleteUser answers "Cannot delete entity, must remove referenced objects
// first." (LocalStack's provider, checked against AWS by its recorded tests); a Bedrock API key
// has an alias USER-at-ACCOUNT, an ABSK secret and an expiration CredentialAgeDays after its
// creation (a create-service-specific-credential output quoted in a public guide). Two
// credentials per user and service (CreateServiceSpecificCredential, IAM API Reference).
func TestServiceSpecificCredentials(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	f.mfaTestUser(t, "alice")
	f.mfaTestUser(t, "bob")
	create := func(user, service string, days int32) (*types.ServiceSpecificCredential, error) {
		in := &iam.CreateServiceSpecificCredentialInput{UserName: aws.String(user), ServiceName: aws.String(service)}
		if days > 0 {
			in.CredentialAgeDays = aws.Int32(days)
		}
		out, err := f.svc.CreateServiceSpecificCredential(f.ctx, in)
		if err != nil {
			return nil, err
		}
		return out.ServiceSpecificCredential, nil
	}
	list := func(in *iam.ListServiceSpecificCredentialsInput) ([]types.ServiceSpecificCredentialMetadata, error) {
		var all []types.ServiceSpecificCredentialMetadata
		for {
			out, err := f.svc.ListServiceSpecificCredentials(f.ctx, in)
			if err != nil {
				return nil, err
			}
			all = append(all, out.ServiceSpecificCredentials...)
			if !out.IsTruncated {
				return all, nil
			}
			in.Marker = out.Marker
		}
	}
	sealed := func(id string) string {
		t.Helper()
		var c *store.ServiceCredential
		err := f.store.View(f.ctx, func(ctx context.Context, tx store.Tx) (err error) {
			c, _, err = store.LoadByID[store.ServiceCredential](ctx, tx, store.KindServiceCredential, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := f.box.Open(c.SealedPassword, []byte(id))
		if err != nil {
			t.Fatal(err)
		}
		return string(plain)
	}
	suffix := "-at-" + f.account

	first, err := create("alice", "codecommit.amazonaws.com", 0)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(first.ServiceSpecificCredentialId)
	password := aws.ToString(first.ServicePassword)
	if raw, err := base64.StdEncoding.DecodeString(password); err != nil || len(password) != 60 || len(raw) != 44 {
		t.Errorf("password %q: want 60 characters of base64", password)
	}
	if !strings.HasPrefix(id, "ACCA") || len(id) != 21 || aws.ToString(first.ServiceUserName) != "alice"+suffix || first.Status != types.StatusTypeActive ||
		first.ServiceCredentialAlias != nil || first.ServiceCredentialSecret != nil || first.ExpirationDate != nil {
		t.Errorf("created %+v", first)
	}
	if sealed(id) != password {
		t.Error("the stored password is not the one returned")
	}
	second, err := create("alice", "codecommit.amazonaws.com", 0)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(second.ServiceUserName) != "alice+1"+suffix {
		t.Errorf("second ServiceUserName %s, want alice+1%s", aws.ToString(second.ServiceUserName), suffix)
	}
	if _, err := create("alice", "cassandra.amazonaws.com", 0); err != nil {
		t.Fatal(err)
	}
	bedrock, err := create("alice", "bedrock.amazonaws.com", 30)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(aws.ToString(bedrock.ServiceCredentialSecret), "ABSK"))
	if aws.ToString(bedrock.ServiceCredentialAlias) != "alice"+suffix || !strings.HasPrefix(aws.ToString(bedrock.ServiceCredentialSecret), "ABSK") ||
		!strings.HasPrefix(string(secret), "alice"+suffix+":") || bedrock.ServiceUserName != nil || bedrock.ServicePassword != nil ||
		!bedrock.ExpirationDate.Equal(bedrock.CreateDate.AddDate(0, 0, 30)) {
		t.Errorf("Bedrock API key %+v", bedrock)
	}
	if _, err := create("bob", "codecommit.amazonaws.com", 0); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name      string
		do        func() error
		code, msg string
	}{
		{"a third for one service", func() error { _, err := create("alice", "codecommit.amazonaws.com", 0); return err }, "LimitExceeded", "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2"},
		{"an unsupported service", func() error { _, err := create("alice", "lambda.amazonaws.com", 0); return err }, "NoSuchEntity", "No such service lambda.amazonaws.com is supported for Service Specific Credentials"},
		{"unknown user and service", func() error { _, err := create("carol", "lambda.amazonaws.com", 0); return err }, "NoSuchEntity", "The user with name carol cannot be found."},
		{"an age for a password", func() error { _, err := create("bob", "cassandra.amazonaws.com", 7); return err }, "InvalidInput", ""},
		{"list an unsupported service", func() error {
			_, err := list(&iam.ListServiceSpecificCredentialsInput{UserName: aws.String("alice"), ServiceName: aws.String("nonexistentservice.amazonaws.com")})
			return err
		}, "NoSuchEntity", "No such service nonexistentservice.amazonaws.com is supported for Service Specific Credentials"},
		{"AllUsers with UserName", func() error {
			_, err := list(&iam.ListServiceSpecificCredentialsInput{UserName: aws.String("alice"), AllUsers: aws.Bool(true)})
			return err
		}, "InvalidInput", ""},
		{"reset another user's", func() error {
			_, err := f.svc.ResetServiceSpecificCredential(f.ctx, &iam.ResetServiceSpecificCredentialInput{UserName: aws.String("bob"), ServiceSpecificCredentialId: aws.String(id)})
			return err
		}, "NoSuchEntity", "No such credential " + id + " exists"},
		{"update for an unknown user", func() error {
			_, err := f.svc.UpdateServiceSpecificCredential(f.ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: aws.String("wrong-user-name"), ServiceSpecificCredentialId: aws.String(id), Status: types.StatusTypeInactive})
			return err
		}, "NoSuchEntity", "The user with name wrong-user-name cannot be found."},
		{"update status Expired", func() error {
			_, err := f.svc.UpdateServiceSpecificCredential(f.ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: aws.String("alice"), ServiceSpecificCredentialId: aws.String(id), Status: types.StatusTypeExpired})
			return err
		}, "ValidationError", ""},
		{"delete an unknown id", func() error {
			_, err := f.svc.DeleteServiceSpecificCredential(f.ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("alice"), ServiceSpecificCredentialId: aws.String("satisfiesregexbutstillinvalid")})
			return err
		}, "NoSuchEntity", "No such credential satisfiesregexbutstillinvalid exists"},
		{"the root user's", func() error {
			_, err := f.svc.DeleteServiceSpecificCredential(f.ctx, &iam.DeleteServiceSpecificCredentialInput{ServiceSpecificCredentialId: aws.String(id)})
			return err
		}, "NoSuchEntity", "No such credential " + id + " exists"},
		{"delete a user with credentials", func() error {
			_, err := f.svc.DeleteUser(f.ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
			return err
		}, "DeleteConflict", "Cannot delete entity, must remove referenced objects first."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, msg := awsErr(t, tc.do()); code != tc.code || (tc.msg != "" && msg != tc.msg) {
				t.Fatalf("error %s %q, want %s %q", code, msg, tc.code, tc.msg)
			}
		})
	}

	for _, tc := range []struct {
		name string
		in   *iam.ListServiceSpecificCredentialsInput
		want []string // USER:SERVICE:SERVICE-USER-NAME-OR-ALIAS, in the order listed
	}{
		{"alice's", &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("alice"), MaxItems: aws.Int32(1)}, []string{
			"alice:bedrock.amazonaws.com:alice" + suffix, "alice:cassandra.amazonaws.com:alice" + suffix,
			"alice:codecommit.amazonaws.com:alice+1" + suffix, "alice:codecommit.amazonaws.com:alice" + suffix,
		}},
		{"alice's codecommit", &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("alice"), ServiceName: aws.String("codecommit.amazonaws.com")}, []string{
			"alice:codecommit.amazonaws.com:alice+1" + suffix, "alice:codecommit.amazonaws.com:alice" + suffix,
		}},
		{"bob's cassandra", &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("bob"), ServiceName: aws.String("cassandra.amazonaws.com")}, []string{}},
		{"every user's codecommit", &iam.ListServiceSpecificCredentialsInput{AllUsers: aws.Bool(true), ServiceName: aws.String("codecommit.amazonaws.com"), MaxItems: aws.Int32(2)}, []string{
			"alice:codecommit.amazonaws.com:alice+1" + suffix, "alice:codecommit.amazonaws.com:alice" + suffix, "bob:codecommit.amazonaws.com:bob" + suffix,
		}},
		{"the root user's", &iam.ListServiceSpecificCredentialsInput{}, []string{}},
	} {
		t.Run("list "+tc.name, func(t *testing.T) {
			got, err := list(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, m := range got {
				names = append(names, aws.ToString(m.UserName)+":"+aws.ToString(m.ServiceName)+":"+aws.ToString(m.ServiceUserName)+aws.ToString(m.ServiceCredentialAlias))
			}
			slices.Sort(names)
			slices.Sort(tc.want)
			if fmt.Sprint(names) != fmt.Sprint(tc.want) {
				t.Fatalf("listed %v, want %v", names, tc.want)
			}
		})
	}

	reset, err := f.svc.ResetServiceSpecificCredential(f.ctx, &iam.ResetServiceSpecificCredentialInput{UserName: aws.String("alice"), ServiceSpecificCredentialId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	newPassword := aws.ToString(reset.ServiceSpecificCredential.ServicePassword)
	if newPassword == password || len(newPassword) != 60 || sealed(id) != newPassword {
		t.Errorf("reset password %q (old %q, stored %q)", newPassword, password, sealed(id))
	}
	if _, err := f.svc.UpdateServiceSpecificCredential(f.ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: aws.String("alice"), ServiceSpecificCredentialId: aws.String(id), Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(31 * 24 * time.Hour) // past the API key's expiration
	statuses := map[string]types.StatusType{}
	all, err := list(&iam.ListServiceSpecificCredentialsInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		statuses[aws.ToString(m.ServiceSpecificCredentialId)] = m.Status
	}
	if statuses[id] != types.StatusTypeInactive || statuses[aws.ToString(second.ServiceSpecificCredentialId)] != types.StatusTypeActive || statuses[aws.ToString(bedrock.ServiceSpecificCredentialId)] != types.StatusTypeExpired {
		t.Errorf("statuses %v, want the first Inactive, the second Active, the API key Expired", statuses)
	}

	// A deleted credential's name is free again.
	if _, err := f.svc.DeleteServiceSpecificCredential(f.ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("alice"), ServiceSpecificCredentialId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	again, err := create("alice", "codecommit.amazonaws.com", 0)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(again.ServiceUserName) != "alice"+suffix {
		t.Errorf("ServiceUserName after a delete %s, want alice%s", aws.ToString(again.ServiceUserName), suffix)
	}
	all, err = list(&iam.ListServiceSpecificCredentialsInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if _, err := f.svc.DeleteServiceSpecificCredential(f.ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("alice"), ServiceSpecificCredentialId: m.ServiceSpecificCredentialId}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.DeleteUser(f.ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatalf("DeleteUser after deleting the credentials: %v", err)
	}
}
