package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// encSiblings returns the other spellings of an issued base64url value that a lenient decoder
// reads as the same bytes: other last characters, whose unused low bits it ignores. A value
// whose length is 2 modulo 4 has 4 unused bits, so 15 siblings.
func encSiblings(t *testing.T, v string) []string {
	t.Helper()
	orig, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		t.Fatalf("%q is not base64url: %v", v, err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var out []string
	for i := range len(alphabet) {
		s := v[:len(v)-1] + alphabet[i:i+1]
		if b, err := base64.RawURLEncoding.DecodeString(s); s != v && err == nil && bytes.Equal(b, orig) {
			out = append(out, s)
		}
	}
	return out
}

func encErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s %q, got %v", code, msg, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("want %s %q, got %s %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// TestEncodingsSessionTokenOneSpelling changes the last character of a genuine role session
// token to each of the 15 others a lenient base64 decoder reads as the same token; each is
// refused for STS and IAM with AWS's answer to a token it did not issue, 403 InvalidClientTokenId
// "The security token included in the request is invalid" (STS's raw ErrorResponse is quoted
// in aws-azure-login/aws-azure-login#251; cloudyr/aws.iam#15 for IAM), while the token as
// issued works.
func TestEncodingsSessionTokenOneSpelling(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	userARN, _, user := stsUser(t, e, e.IAM, e.Account, "enc-user", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	role := stsRole(t, e.IAM, "enc-role", trustDoc(`{"AWS":"`+userARN+`"}`, `"sts:AssumeRole"`, ""), allowAll, 0)
	// Session names of 2, 3 and 4 characters give tokens of each length modulo 4; the one of
	// length 2 modulo 4 has 15 siblings.
	var creds aws.Credentials
	var siblings []string
	for _, name := range []string{"ss", "sss", "ssss"} {
		out, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String(name)})
		stsOK(t, err)
		if s := encSiblings(t, aws.ToString(out.Credentials.SessionToken)); len(s) == 15 {
			c := out.Credentials
			creds = aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
			siblings = s
		}
	}
	if siblings == nil {
		t.Fatal("no session token with 15 siblings among three lengths")
	}
	si, ss := e.clients(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	_, err := ss.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	stsOK(t, err)
	_, err = si.ListRoles(ctx, &iam.ListRolesInput{})
	stsOK(t, err)
	for _, tok := range siblings {
		t.Run("last="+tok[len(tok)-1:], func(t *testing.T) {
			i, s := e.clients(creds.AccessKeyID, creds.SecretAccessKey, tok)
			_, err := s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			encErr(t, err, "InvalidClientTokenId", "The security token included in the request is invalid")
			_, err = i.ListRoles(ctx, &iam.ListRolesInput{})
			encErr(t, err, "InvalidClientTokenId", "The security token included in the request is invalid")
		})
	}
}

// TestEncodingsMarkerOneSpelling respells the Marker of a list page and of a simulation page;
// only the marker as issued continues the listing.
func TestEncodingsMarkerOneSpelling(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// A name of 7 characters makes a marker of 10, with 15 siblings.
	for _, name := range []string{"enc-mk1", "enc-mk2", "enc-mk3"} {
		_, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String("/enc/")})
		stsOK(t, err)
	}
	list := func(marker *string) (*iam.ListUsersOutput, error) {
		return e.IAM.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/enc/"), MaxItems: aws.Int32(1), Marker: marker})
	}
	first, err := list(nil)
	stsOK(t, err)
	if !first.IsTruncated || first.Marker == nil {
		t.Fatalf("first page not truncated: %+v", first)
	}
	next, err := list(first.Marker)
	stsOK(t, err)
	if len(next.Users) != 1 || aws.ToString(next.Users[0].UserName) != "enc-mk2" {
		t.Fatalf("second page %+v, want enc-mk2", next.Users)
	}
	siblings := encSiblings(t, *first.Marker)
	if len(siblings) != 15 {
		t.Fatalf("marker %q has %d siblings, want 15 (the case proves less)", *first.Marker, len(siblings))
	}
	for _, m := range siblings {
		_, err := list(aws.String(m))
		encErr(t, err, "ValidationError", "Invalid Marker")
	}

	sim := func(marker *string) (*iam.SimulatePrincipalPolicyOutput, error) {
		return e.IAM.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: aws.String("arn:aws:iam::" + e.Account + ":user/enc/enc-mk1"),
			ActionNames:     []string{"iam:GetUser", "iam:ListUsers", "iam:ListRoles"},
			MaxItems:        aws.Int32(1),
			Marker:          marker,
		})
	}
	page, err := sim(nil)
	stsOK(t, err)
	if page.Marker == nil {
		t.Fatal("simulation page 1 has no marker")
	}
	_, err = sim(page.Marker)
	stsOK(t, err)
	others := append(encSiblings(t, *page.Marker), base64.RawURLEncoding.EncodeToString([]byte("+1")), base64.RawURLEncoding.EncodeToString([]byte("01")))
	for _, m := range others {
		_, err := sim(aws.String(m))
		encErr(t, err, "ValidationError", "Invalid Marker.")
	}
}

// TestEncodingsPolicyDuplicateKeys sends documents with a repeated key to every operation that
// stores one. The IAM User Guide (Troubleshoot IAM policies, "More than one effect, action, or
// resource element", and the policy grammar notes) says IAM refuses them in new and edited
// policies as syntax errors: MalformedPolicyDocument "Syntax errors in policy.". Numbers beyond
// a float64, where AWS documents nothing, are refused too. Nothing is stored.
func TestEncodingsPolicyDuplicateKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("enc-dup")})
	stsOK(t, err)
	_, _, caller := stsUser(t, e, e.IAM, e.Account, "enc-dup-caller", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	roleARN := stsRole(t, e.IAM, "enc-dup-role", trustDoc(`{"AWS":"`+e.Account+`"}`, `"sts:AssumeRole"`, ""), "", 0)
	_, err = caller.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("ss"), Policy: aws.String(allowAll)})
	stsOK(t, err)
	policyARN := "arn:aws:iam::" + e.Account + ":policy/enc-dup"
	const syntax = "Syntax errors in policy."
	docs := []struct{ name, doc, msg string }{
		{"two Effect members", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Effect":"Allow","Action":"iam:*","Resource":"*"}}`, syntax},
		{"two Statement members", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iam:*","Resource":"*"},"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}`, syntax},
		{"two Resource members", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b","Resource":"*"}}`, syntax},
		{"a condition key twice", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"a","aws:username":"b"}}}}`, syntax},
		{"a number beyond float64", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":1e999}}}}`,
			"The number 1e999 for the condition operator NumericLessThan on key aws:MultiFactorAuthAge is out of range"},
	}
	for _, d := range docs {
		t.Run("doc="+d.name, func(t *testing.T) {
			_, err := e.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("enc-dup"), PolicyDocument: aws.String(d.doc)})
			encErr(t, err, "MalformedPolicyDocument", d.msg)
			_, err = e.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(policyARN)})
			encErr(t, err, "NoSuchEntity", "")
			_, err = e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("enc-dup"), PolicyName: aws.String("p"), PolicyDocument: aws.String(d.doc)})
			encErr(t, err, "MalformedPolicyDocument", d.msg)
			_, err = e.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("enc-dup-role"), PolicyName: aws.String("p"), PolicyDocument: aws.String(d.doc)})
			encErr(t, err, "MalformedPolicyDocument", d.msg)
			_, err = caller.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("ss"), Policy: aws.String(d.doc)})
			encErr(t, err, "MalformedPolicyDocument", d.msg)
		})
	}
	up, err := e.IAM.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("enc-dup")})
	stsOK(t, err)
	rp, err := e.IAM.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("enc-dup-role")})
	stsOK(t, err)
	if len(up.PolicyNames)+len(rp.PolicyNames) != 0 {
		t.Fatalf("refused documents were stored: user %v, role %v", up.PolicyNames, rp.PolicyNames)
	}

	// A trust policy naming two principals under one "AWS" key, and a new policy version.
	_, err = e.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("enc-dup-trust"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"` + e.Account + `","AWS":"*"},"Action":"sts:AssumeRole"}}`)})
	encErr(t, err, "MalformedPolicyDocument", syntax)
	_, err = e.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("enc-dup-trust")})
	encErr(t, err, "NoSuchEntity", "")
	p, err := e.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("enc-ok"), PolicyDocument: aws.String(allowAll)})
	stsOK(t, err)
	_, err = e.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Policy.Arn, SetAsDefault: true, PolicyDocument: aws.String(docs[0].doc)})
	encErr(t, err, "MalformedPolicyDocument", syntax)
	vs, err := e.IAM.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: p.Policy.Arn})
	stsOK(t, err)
	if len(vs.Versions) != 1 {
		t.Fatalf("versions %+v, want only v1", vs.Versions)
	}
}

// encPadHeader is an aws-sdk-go-v2 option that adds a header of n bytes to every request.
func encPadHeader(n int) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Build.Add(middleware.BuildMiddlewareFunc("encPad", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				req.Header.Set("X-Pad", strings.Repeat("a", n))
			}
			return next.HandleBuild(ctx, in)
		}), middleware.After)
	}
}

// TestEncodingsOversizedHeader sends a header section over 64 KiB, raw and through
// aws-sdk-go-v2 (TestEncodingsBoto3 through boto3). The answer is an XML ErrorResponse with RequestHeaderSectionTooLarge (status 400, as
// Amazon S3 answers it; IAM and STS document no code), which the SDKs parse as an API error.
func TestEncodingsOversizedHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const msg = "Your request header section exceeds the maximum allowed size of 65536 bytes"

	t.Run("client=raw http", func(t *testing.T) {
		c, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		go func() {
			_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Pad: "+strings.Repeat("a", 70<<10)+"\r\nContent-Length: 0\r\n\r\n")
		}()
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		var er struct {
			Code    string `xml:"Error>Code"`
			Message string `xml:"Error>Message"`
		}
		if err := xml.Unmarshal(body, &er); err != nil || resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "text/xml" {
			t.Fatalf("status %d %q, body %s (%v)", resp.StatusCode, resp.Header.Get("Content-Type"), body, err)
		}
		if er.Code != "RequestHeaderSectionTooLarge" || !strings.HasPrefix(er.Message, msg) {
			t.Fatalf("error %+v", er)
		}
	})
	t.Run("client=aws-sdk-go-v2", func(t *testing.T) {
		_, err := e.IAM.ListUsers(ctx, &iam.ListUsersInput{}, func(o *iam.Options) { o.APIOptions = append(o.APIOptions, encPadHeader(70<<10)) })
		encErr(t, err, "RequestHeaderSectionTooLarge", msg)
		_, err = e.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) { o.APIOptions = append(o.APIOptions, encPadHeader(70<<10)) })
		encErr(t, err, "RequestHeaderSectionTooLarge", msg)
		// Within the limit the request is served.
		_, err = e.IAM.ListUsers(ctx, &iam.ListUsersInput{}, func(o *iam.Options) { o.APIOptions = append(o.APIOptions, encPadHeader(60<<10)) })
		stsOK(t, err)
	})
}

// TestEncodingsBoto3 runs clients/encodings_boto3.py: the cases above through boto3.
func TestEncodingsBoto3(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	home := t.TempDir()
	cmd := exec.Command("python3", "clients/encodings_boto3.py")
	cmd.Env = append(os.Environ(),
		"GATEHOUSE_ENDPOINT="+e.URL,
		"AWS_ACCESS_KEY_ID="+e.Root.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+e.Root.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"HOME="+home,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("%s", out)
}
