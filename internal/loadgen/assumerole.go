package loadgen

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// roleCaller is what the AssumeRole phase needs: the role and the IAM user that assumes it.
type roleCaller struct {
	roleARN string
	creds   aws.Credentials
}

// setUpAssumeRole creates, signed with the configured credentials, an IAM user with an access
// key and an inline policy allowing sts:AssumeRole, and a role whose trust policy names that
// user; AssumeRole is then called as the user, as AWS requires (root may not assume roles).
func (g *Generator) setUpAssumeRole(ctx context.Context, runID string) (*roleCaller, error) {
	c := g.newClient(ctx, 0, "")
	var who struct {
		Account string `xml:"GetCallerIdentityResult>Account"`
	}
	if err := c.call(ctx, "sts", url.Values{"Action": {"GetCallerIdentity"}, "Version": {stsVersion}}, &who); err != nil {
		return nil, err
	}
	user, role := "bench-caller-"+runID, "bench-role-"+runID
	userARN := "arn:aws:iam::" + who.Account + ":user/" + user
	if err := c.call(ctx, "iam", url.Values{"Action": {"CreateUser"}, "Version": {iamVersion}, "UserName": {user}}, nil); err != nil {
		return nil, err
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	if err := c.call(ctx, "iam", url.Values{"Action": {"PutUserPolicy"}, "Version": {iamVersion}, "UserName": {user},
		"PolicyName": {"assume"}, "PolicyDocument": {allow}}, nil); err != nil {
		return nil, err
	}
	var key struct {
		ID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		Secret string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	if err := c.call(ctx, "iam", url.Values{"Action": {"CreateAccessKey"}, "Version": {iamVersion}, "UserName": {user}}, &key); err != nil {
		return nil, err
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + userARN + `"},"Action":"sts:AssumeRole"}]}`
	var created struct {
		ARN string `xml:"CreateRoleResult>Role>Arn"`
	}
	if err := c.call(ctx, "iam", url.Values{"Action": {"CreateRole"}, "Version": {iamVersion}, "RoleName": {role},
		"AssumeRolePolicyDocument": {trust}}, &created); err != nil {
		return nil, err
	}
	return &roleCaller{roleARN: created.ARN, creds: aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}}, nil
}

// call sends one Query API request for the setup and decodes the answer into out (nil: none).
func (c *client) call(ctx context.Context, service string, form url.Values, out any) error {
	body := []byte(form.Encode())
	status, errBody, _, err := c.sendFull(ctx, body, payloadHash(body), service, time.Now(), out != nil)
	action := form.Get("Action")
	switch {
	case err != nil:
		return fmt.Errorf("set up AssumeRole: %s: %w", action, err)
	case status != http.StatusOK:
		return fmt.Errorf("set up AssumeRole: %s: HTTP %d: %s", action, status, errBody)
	case out != nil:
		if err := xml.Unmarshal(c.lastBody, out); err != nil {
			return fmt.Errorf("set up AssumeRole: %s: decode the answer: %w", action, err)
		}
	}
	return nil
}
