package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// rawResponse is an answer to a hand-made request: status, AWS error code and the body.
type rawResponse struct {
	Status    int
	Code      string
	Message   string
	RequestID string
	Body      string
}

// send makes a Query request with body (form-encoded unless contentType says otherwise),
// signed for service as the root user unless unsigned.
func (e *env) send(t *testing.T, method, query, body, contentType, service string, signed bool) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+"/"+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if signed {
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: e.Root.AccessKeyID, SecretAccessKey: e.Root.SecretAccessKey}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var er struct {
		Error struct{ Code, Message string }
	}
	_ = xml.Unmarshal(data, &er)
	return rawResponse{Status: resp.StatusCode, Code: er.Error.Code, Message: er.Error.Message, RequestID: resp.Header.Get("x-amzn-RequestId"), Body: string(data)}
}

const form = "application/x-www-form-urlencoded; charset=utf-8"

// TestBadRequests sends malformed and refused requests; each gets AWS's error code and a
// message naming the problem, and none creates the user it names.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	huge := "Action=CreateUser&Version=2010-05-08&UserName=huge&Path=%2F" + strings.Repeat("a", 2<<20)
	cases := []struct {
		name, method, query, body, contentType, service string
		unsigned                                        bool
		status                                          int
		code, inMessage                                 string
	}{
		{name: "case=unsigned", method: "POST", body: "Action=CreateUser&Version=2010-05-08&UserName=bad1", contentType: form, service: "iam", unsigned: true, status: 403, code: "MissingAuthenticationToken"},
		{name: "case=unknown action", method: "POST", body: "Action=CreateUsers&Version=2010-05-08&UserName=bad1", contentType: form, service: "iam", status: 400, code: "InvalidAction", inMessage: "CreateUsers"},
		{name: "case=missing action", method: "POST", body: "Version=2010-05-08&UserName=bad1", contentType: form, service: "iam", status: 400, code: "MissingAction"},
		{name: "case=not implemented", method: "POST", body: "Action=GenerateOrganizationsAccessReport&Version=2010-05-08&EntityPath=o-a1b2c3d4e5%2Fr-f6g7", contentType: form, service: "iam", status: 501, code: "NotImplemented", inMessage: "GenerateOrganizationsAccessReport"},
		{name: "case=unknown parameter", method: "POST", body: "Action=CreateUser&Version=2010-05-08&UserName=bad1&Colour=red", contentType: form, service: "iam", status: 400, code: "ValidationError", inMessage: "Colour"},
		{name: "case=missing required", method: "POST", body: "Action=CreateUser&Version=2010-05-08", contentType: form, service: "iam", status: 400, code: "ValidationError", inMessage: "userName"},
		{name: "case=wrong type", method: "POST", body: "Action=CreateRole&Version=2010-05-08&RoleName=bad1&AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=long", contentType: form, service: "iam", status: 400, code: "ValidationError", inMessage: "whole number"},
		{name: "case=forbidden characters", method: "POST", body: "Action=CreateUser&Version=2010-05-08&UserName=bad%2Fname", contentType: form, service: "iam", status: 400, code: "ValidationError", inMessage: "regular expression"},
		{name: "case=malformed body", method: "POST", body: "Action=CreateUser&Version=2010-05-08&UserName=bad1%zz", contentType: form, service: "iam", status: 400, code: "MalformedQueryString"},
		{name: "case=not a form", method: "POST", body: `{"Action":"CreateUser","UserName":"bad1"}`, contentType: "application/json", service: "iam", status: 400, code: "MalformedQueryString", inMessage: "application/x-www-form-urlencoded"},
		{name: "case=huge body", method: "POST", body: huge, contentType: form, service: "iam", status: 413, code: "RequestEntityTooLarge"},
		{name: "case=method", method: "PUT", body: "Action=CreateUser&Version=2010-05-08&UserName=bad1", contentType: form, service: "iam", status: 405, code: "InvalidHttpRequest"},
		{name: "case=signed for sts", method: "POST", body: "Action=CreateUser&Version=2010-05-08&UserName=bad1", contentType: form, service: "sts", status: 403, code: "SignatureDoesNotMatch", inMessage: "iam"},
		{name: "case=GET works", method: "GET", query: "?Action=GetUser&Version=2010-05-08&UserName=nobody", service: "iam", status: 404, code: "NoSuchEntity", inMessage: "nobody"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := e.send(t, c.method, c.query, c.body, c.contentType, c.service, !c.unsigned)
			if got.Status != c.status || got.Code != c.code || !strings.Contains(got.Message, c.inMessage) {
				t.Fatalf("got %d %s %q, want %d %s containing %q\n%s", got.Status, got.Code, got.Message, c.status, c.code, c.inMessage, got.Body)
			}
			if got.RequestID == "" || !strings.Contains(got.Body, "<RequestId>"+got.RequestID+"</RequestId>") {
				t.Errorf("the x-amzn-RequestId header %q is not the body's RequestId:\n%s", got.RequestID, got.Body)
			}
		})
	}
	users, err := e.IAM.ListUsers(context.Background(), &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(users.Users) != 0 {
		t.Fatalf("refused requests created users: %+v", users.Users)
	}
}
