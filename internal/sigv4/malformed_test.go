package sigv4_test

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

// malformedFile is testdata/malformed.json: requests refused before their signature is checked.
//
// Where the messages come from (public AWS responses, quoted in issues):
//   - "Authorization header requires 'Signature' parameter. Authorization header requires
//     'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=ABCDEF" (SES,
//     brendanhay/amazonka#316): every missing part listed, then the header echoed.
//   - A SigV2 header "AWS AKIA...:sig" gets the three 'requires' sentences (CloudFront,
//     aws/aws-sdk-ruby#317); API Gateway adds "requires existence of either a 'X-Amz-Date' or a
//     'Date' header" (aws/chalice#828).
//   - "'/20150620/us-east-1/cloudformation/aws4_request' not a valid key=value pair (missing
//     equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential=AKIA... /2015...'."
//     (aws/aws-sdk-go#289): parameters are split on whitespace as well as commas.
//   - IncompleteSignature is 400, MissingAuthenticationToken and SignatureDoesNotMatch 403 (IAM
//     API Reference, Common Errors; STS's own answers in aws/aws-cli#6676).
//   - The credential-scope, host, date-format and query-string messages follow
//     scratchstack-aws-signature (dacut), a SigV4 verifier modelled on AWS's error ordering;
//     AWS's own "Credential should be scoped to correct service: 'iam'." is the server's check.
//   - Unsupported algorithms (AWS4-HMAC-SHA512, SigV4a) are named; SigV4a says what to do instead.
type malformedFile struct {
	Now   string          `json:"now"`
	Cases []malformedCase `json:"cases"`
}

type malformedCase struct {
	Name    string            `json:"name"`
	Method  string            `json:"method"`
	Target  string            `json:"target"`
	Headers map[string]string `json:"headers"`
	Code    string            `json:"code"`
	Status  int               `json:"status"`
	Message string            `json:"message"`
}

func loadMalformed(tb testing.TB) malformedFile {
	tb.Helper()
	raw, err := os.ReadFile("testdata/malformed.json")
	if err != nil {
		tb.Fatal(err)
	}
	var f malformedFile
	if err := json.Unmarshal(raw, &f); err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	f := loadMalformed(t)
	now, err := time.Parse("20060102T150405Z", f.Now)
	if err != nil {
		t.Fatal(err)
	}
	v := sigv4.NewVerifier(clockAt(now))
	for _, c := range f.Cases {
		t.Run("case="+c.Name, func(t *testing.T) {
			t.Parallel()
			method, target := c.Method, c.Target
			if method == "" {
				method = "POST"
			}
			if target == "" {
				target = "https://iam.amazonaws.com/"
			}
			r := httptest.NewRequest(method, target, nil)
			for k, val := range c.Headers {
				r.Header.Set(k, val)
			}
			s, err := v.Parse(r, nil)
			if s != nil {
				t.Errorf("Parse returned a Signed with error %v", err)
			}
			if e := wantCode(t, err, c.Code, c.Status); e.Message != c.Message {
				t.Errorf("message:\n got %q\nwant %q", e.Message, c.Message)
			}
		})
	}
}

// TestParseReturnsNilInterface guards the error interface: a failed Parse must return a nil
// *Signed and a non-nil error, and a good one a nil error (not a typed nil *Error).
func TestParseReturnsNilInterface(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "https://iam.amazonaws.com/", nil)
	if _, err := sigv4.NewVerifier(nil).Parse(r, nil); err == nil {
		t.Fatal("unsigned request parsed")
	}
	r = serverRequest("POST", "https://iam.amazonaws.com/", listUsersBody)
	signRequest(t, r, listUsersBody, "iam", "us-east-1", time.Now())
	s, err := sigv4.NewVerifier(nil).Parse(r, []byte(listUsersBody))
	if err != nil || s == nil {
		t.Fatalf("Parse = %v, %v", s, err)
	}
}
