package middleware

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The decision API's wire shapes (internal/decision), mirrored so that a service importing
// this package does not link Gatehouse's server.
const (
	targetPrefix = "Gatehouse_20261201"
	signingName  = "gatehouse"
	// maxResponse bounds an answer of Gatehouse: a principal's policies fit well inside.
	maxResponse = 8 << 20
)

type signingContextInput struct {
	AccessKeyId  string //nolint:revive // AWS's spelling
	SessionToken string `json:",omitempty"`
	Date         string
	Region       string
	Service      string
}

type signingContextOutput struct {
	SigningKey string
	Principal  struct {
		Arn           string
		Account       string
		UserId        string //nolint:revive // AWS's spelling
		UserName      string
		Type          string
		AccessKeyId   string //nolint:revive // AWS's spelling
		PrincipalArn  string
		CallerRoleArn string
		CallerRoleId  string //nolint:revive // AWS's spelling
		CallerId      string //nolint:revive // AWS's spelling
		Session       *struct {
			IssuedAt          time.Time
			Expiration        time.Time
			RoleArn           string
			RoleId            string //nolint:revive // AWS's spelling
			RoleName          string
			SessionName       string
			UserId            string //nolint:revive // AWS's spelling
			SourceIdentity    string
			MFA               bool
			MFAAt             time.Time
			FederatedProvider string
		}
	}
	Policies []struct {
		PolicyId   string //nolint:revive // AWS's spelling
		PolicyType string
		Document   string
	}
	SessionPolicies bool
	Tags            []struct{ Key, Value string }
	DecideRemotely  bool
	MaxAge          int
}

type question struct {
	SignedRequest   *signedRequest      `json:",omitempty"`
	Action          string              `json:",omitempty"`
	Resource        string              `json:",omitempty"`
	ResourceAccount string              `json:",omitempty"`
	Context         map[string][]string `json:",omitempty"`
	ResourcePolicy  string              `json:",omitempty"`
}

type signedRequest struct {
	Method  string
	URI     string
	Host    string
	Headers map[string][]string
}

type answer struct {
	Decision  string
	Allowed   bool
	Action    string
	Resource  string
	Principal *struct {
		Arn         string
		Account     string
		UserId      string //nolint:revive // AWS's spelling
		SessionName string
	}
	Message string
	Error   *struct{ Code, Message string }
}

// client calls Gatehouse's decision API, signed with the service's credentials.
type client struct {
	endpoint string
	creds    aws.CredentialsProvider
	region   string
	http     *http.Client
	now      func() time.Time
}

// signer signs the calls to Gatehouse; a v4.Signer is safe for concurrent use.
var signer = v4.NewSigner()

// callError is an error Gatehouse answered; any other error of call means it could not be
// reached (or answered something that is not its protocol).
type callError struct {
	Status        int
	Code, Message string
}

func (e *callError) Error() string {
	return fmt.Sprintf("gatehouse: %d %s: %s", e.Status, e.Code, e.Message)
}

func (c *client) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", targetPrefix+"."+op)
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("gatehouse: the service's credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), signingName, c.region, c.now()); err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &e) != nil || e.Type == "" {
			// Not Gatehouse's answer: a proxy's, or a server starting. Unreachable.
			return fmt.Errorf("gatehouse: HTTP %d", resp.StatusCode)
		}
		if resp.StatusCode >= 500 {
			return fmt.Errorf("gatehouse: HTTP %d %s: %s", resp.StatusCode, e.Type, e.Message)
		}
		return &callError{Status: resp.StatusCode, Code: e.Type, Message: e.Message}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("gatehouse: the %s answer does not decode: %w", op, err)
	}
	return nil
}
