package awsquery

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func mustModel(t testing.TB, svc string) *Model {
	t.Helper()
	m, err := LoadModel(svc)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDecode(t *testing.T) {
	t.Parallel()
	m := mustModel(t, "iam")
	cases := []struct {
		name    string
		op      string
		form    string
		wantErr string // substring of the ValidationError message; "" for success
		check   func(t *testing.T, in *iam.CreateUserInput)
	}{
		{name: "case=minimal", op: "CreateUser", form: "UserName=alice",
			check: func(t *testing.T, in *iam.CreateUserInput) {
				if aws.ToString(in.UserName) != "alice" || in.Path != nil {
					t.Errorf("decoded %+v", in)
				}
			}},
		{name: "case=tags list", op: "CreateUser", form: "UserName=a&Tags.member.2.Key=k2&Tags.member.2.Value=v2&Tags.member.1.Key=k1&Tags.member.1.Value=v1",
			check: func(t *testing.T, in *iam.CreateUserInput) {
				if len(in.Tags) != 2 || aws.ToString(in.Tags[0].Key) != "k1" || aws.ToString(in.Tags[1].Value) != "v2" {
					t.Errorf("tags %+v", in.Tags)
				}
			}},
		{name: "case=missing required", op: "CreateUser", form: "Path=/", wantErr: "Value null at 'userName' failed to satisfy constraint: Member must not be null"},
		{name: "case=name too long", op: "CreateUser", form: "UserName=" + strings.Repeat("a", 65), wantErr: "Member must have length less than or equal to 64"},
		{name: "case=name pattern", op: "CreateUser", form: "UserName=bad%20name", wantErr: "Member must satisfy regular expression pattern"},
		{name: "case=two violations", op: "CreateUser", form: "UserName=bad%20name&Tags.member.1.Key=k", wantErr: `2 validation errors detected: Value at 'tags.1.member.value' failed to satisfy constraint: Member must not be null; Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`},
		{name: "case=unknown parameter", op: "CreateUser", form: "UserName=a&Colour=red", wantErr: "The parameter Colour is not recognized"},
		{name: "case=list index zero", op: "CreateUser", form: "UserName=a&Tags.member.0.Key=k&Tags.member.0.Value=v", wantErr: "indexes start at 1"},
		{name: "case=list index with leading zero", op: "CreateUser", form: "UserName=a&Tags.member.01.Key=k&Tags.member.01.Value=v",
			check: func(t *testing.T, in *iam.CreateUserInput) {
				if len(in.Tags) != 1 || aws.ToString(in.Tags[0].Key) != "k" {
					t.Errorf("tags %+v", in.Tags)
				}
			}},
		{name: "case=list index given twice", op: "CreateUser", form: "UserName=a&Tags.member.1.Key=k&Tags.member.1.Value=v&Tags.member.01.Key=k2&Tags.member.01.Value=v", wantErr: "gives index 1 more than once"},
		{name: "case=list without member", op: "CreateUser", form: "UserName=a&Tags.1.Key=k", wantErr: "must be given as tags.member.N"},
		{name: "case=repeated parameter", op: "CreateUser", form: "UserName=a&UserName=b", wantErr: "given more than once"},
		{name: "case=empty key part", op: "CreateUser", form: "UserName=a&Tags..Key=k", wantErr: "is not valid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			form, err := url.ParseQuery(c.form)
			if err != nil {
				t.Fatal(err)
			}
			in := new(iam.CreateUserInput)
			err = Decode(m.Operations[c.op], form, in)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				c.check(t, in)
				return
			}
			e := AsError(err)
			if e == nil || e.Code != "ValidationError" || !strings.Contains(e.Message, c.wantErr) {
				t.Fatalf("Decode error = %v, want ValidationError containing %q", err, c.wantErr)
			}
		})
	}
}

func TestDecodeTypes(t *testing.T) {
	t.Parallel()
	m := mustModel(t, "iam")
	cases := []struct {
		name, form, wantErr string
	}{
		{"case=integer", "RoleName=r&AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=7200", ""},
		{"case=integer not a number", "RoleName=r&AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=two", "Member must be a whole number"},
		{"case=integer out of range", "RoleName=r&AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=60", "Member must have value greater than or equal to 3600"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			form, _ := url.ParseQuery(c.form)
			in := new(iam.CreateRoleInput)
			err := Decode(m.Operations["CreateRole"], form, in)
			if c.wantErr == "" {
				if err != nil || aws.ToInt32(in.MaxSessionDuration) != 7200 {
					t.Fatalf("Decode = %v, MaxSessionDuration %v", err, in.MaxSessionDuration)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("Decode error = %v, want %q", err, c.wantErr)
			}
		})
	}
	form, _ := url.ParseQuery("Status=Sleeping&AccessKeyId=AKIAAAAAAAAAAAAAAAAA")
	err := Decode(m.Operations["UpdateAccessKey"], form, new(iam.UpdateAccessKeyInput))
	if err == nil || !strings.Contains(err.Error(), "Member must satisfy enum value set: [Active, Inactive") {
		t.Fatalf("enum: Decode error = %v", err)
	}
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\ngot:  %s\nwant: %s", name, got, want)
	}
}

func TestEncodeGolden(t *testing.T) {
	t.Parallel()
	iamModel, stsModel := mustModel(t, "iam"), mustModel(t, "sts")
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	cases := []struct {
		name  string
		model *Model
		op    string
		out   any
	}{
		{"GetUser.xml", iamModel, "GetUser", &iam.GetUserOutput{User: &types.User{
			Arn: aws.String("arn:aws:iam::123456789012:user/eng/alice"), CreateDate: &created, Path: aws.String("/eng/"),
			UserId: aws.String("AIDAEXAMPLE0000000001"), UserName: aws.String("alice"),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a&b <c>")}},
		}}},
		{"ListUsers-empty.xml", iamModel, "ListUsers", &iam.ListUsersOutput{Users: []types.User{}}},
		{"GetRolePolicy.xml", iamModel, "GetRolePolicy", &iam.GetRolePolicyOutput{RoleName: aws.String("r"), PolicyName: aws.String("p"),
			PolicyDocument: aws.String(EncodeDocument(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`))}},
		{"DeleteUser.xml", iamModel, "DeleteUser", &iam.DeleteUserOutput{}},
		{"GetCallerIdentity.xml", stsModel, "GetCallerIdentity", &sts.GetCallerIdentityOutput{
			Account: aws.String("123456789012"), Arn: aws.String("arn:aws:iam::123456789012:root"), UserId: aws.String("123456789012")}},
	}
	for _, c := range cases {
		t.Run("file="+c.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := EncodeResponse(&buf, c.model.XMLNamespace, c.model.Operations[c.op], c.out, "00000000-0000-4000-8000-000000000000"); err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, buf.Bytes())
		})
	}
	t.Run("file=Error.xml", func(t *testing.T) {
		var buf bytes.Buffer
		EncodeError(&buf, iamModel.XMLNamespace, NoSuchEntity("The user with name %s cannot be found.", "bob<"), "00000000-0000-4000-8000-000000000000")
		golden(t, "Error.xml", buf.Bytes())
	})
}

func TestLookup(t *testing.T) {
	t.Parallel()
	svc, err := NewService("IAM", "iam")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Register("NoSuchOperation", nil); err == nil {
		t.Error("Register accepted an operation the model does not have")
	}
	if _, _, err := svc.Lookup("NoSuchOperation"); AsError(err) == nil || AsError(err).Code != "InvalidAction" {
		t.Errorf("Lookup(unknown) = %v, want InvalidAction", err)
	}
	_, _, err = svc.Lookup("CreateSAMLProvider")
	if e := AsError(err); e == nil || e.Code != "NotImplemented" || !strings.Contains(e.Message, "CreateSAMLProvider") {
		t.Errorf("Lookup(unserved) = %v, want NotImplemented naming the operation", err)
	}
}

// FuzzDecode feeds arbitrary query strings to the form decoder: it must never panic, and it
// either decodes or answers an AWS error.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"UserName=alice", "UserName=a&Tags.member.1.Key=k&Tags.member.1.Value=v",
		"UserName=a&Tags.member.99999999999999999999.Key=k", "Tags.member.1=x", "UserName.member.1=x",
		"UserName=a&Path=%2F&PermissionsBoundary=arn", "a.b.c.d=1", "=", "&&", "UserName=%ff",
	} {
		f.Add(seed)
	}
	m := mustModel(f, "iam")
	ops := []string{"CreateUser", "CreateRole", "PutUserPolicy", "TagUser", "SimulateCustomPolicy"}
	f.Fuzz(func(t *testing.T, q string) {
		form, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		for _, name := range ops {
			op := m.Operations[name]
			var dst any
			switch name {
			case "CreateUser":
				dst = new(iam.CreateUserInput)
			case "CreateRole":
				dst = new(iam.CreateRoleInput)
			case "PutUserPolicy":
				dst = new(iam.PutUserPolicyInput)
			case "TagUser":
				dst = new(iam.TagUserInput)
			case "SimulateCustomPolicy":
				dst = new(iam.SimulateCustomPolicyInput)
			}
			if err := Decode(op, form, dst); err != nil && AsError(err) == nil {
				t.Fatalf("%s: non-AWS error %v", name, err)
			}
		}
	})
}

func TestEncodeLeavesOutUnsetBlobs(t *testing.T) {
	t.Parallel()
	m := mustModel(t, "iam")
	out := &iam.ListVirtualMFADevicesOutput{VirtualMFADevices: []types.VirtualMFADevice{{SerialNumber: aws.String("arn:aws:iam::123456789012:mfa/d")}}}
	var buf bytes.Buffer
	if err := EncodeResponse(&buf, m.XMLNamespace, m.Operations["ListVirtualMFADevices"], out, "r"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "Base32StringSeed") || strings.Contains(buf.String(), "QRCodePNG") {
		t.Fatalf("unset blobs were written: %s", buf.String())
	}
	out.VirtualMFADevices[0].QRCodePNG = []byte{}
	buf.Reset()
	if err := EncodeResponse(&buf, m.XMLNamespace, m.Operations["ListVirtualMFADevices"], out, "r"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "<QRCodePNG></QRCodePNG>") {
		t.Fatalf("an empty blob that is set was left out: %s", buf.String())
	}
}

func TestDecline(t *testing.T) {
	t.Parallel()
	svc, err := NewService("IAM", "iam")
	if err != nil {
		t.Fatal(err)
	}
	d := Declined{Code: "FeatureDisabled", Status: http.StatusNotFound, Reason: "it is always off"}
	newInput := func() any { return new(iam.GetServiceLastAccessedDetailsInput) }
	if err := svc.Decline("GetServiceLastAccessedDetails", newInput, Declined{Code: "X"}); err == nil {
		t.Error("Decline accepted an answer without a status and reason")
	}
	if err := svc.Decline("GetServiceLastAccessedDetails", newInput, d); err != nil {
		t.Fatal(err)
	}
	if err := svc.Decline("GetServiceLastAccessedDetails", newInput, d); err == nil {
		t.Error("Decline accepted an operation twice")
	}
	op, h, err := svc.Lookup("GetServiceLastAccessedDetails")
	if err != nil {
		t.Fatal(err)
	}
	// The input is validated first, as for any operation.
	if _, err := h(context.Background(), op, url.Values{}); AsError(err) == nil || AsError(err).Code != "ValidationError" {
		t.Errorf("without JobId: %v, want ValidationError", err)
	}
	_, err = h(context.Background(), op, url.Values{"JobId": {"examplef-1305-c245-eba4-71fe298bcda7"}})
	want := "Gatehouse does not offer the IAM operation GetServiceLastAccessedDetails: it is always off."
	if e := AsError(err); e == nil || e.Code != d.Code || e.Status != d.Status || !e.Sender || e.Message != want {
		t.Errorf("answer = %+v, want %s %d %q", e, d.Code, d.Status, want)
	}
	if got := svc.Declines(); len(got) != 1 || got["GetServiceLastAccessedDetails"] != d {
		t.Errorf("Declines() = %v", got)
	}
	if len(svc.Implemented()) != 0 {
		t.Errorf("Implemented() = %v, want the declined operation left out", svc.Implemented())
	}
}
