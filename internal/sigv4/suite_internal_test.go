package sigv4

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// suiteFile is testdata/aws-sig-v4-test-suite.json: AWS's published SigV4 test vectors.
type suiteFile struct {
	AccessKeyID     string      `json:"accessKeyId"`
	SecretAccessKey string      `json:"secretAccessKey"`
	Time            string      `json:"time"`
	SessionToken    string      `json:"sessionToken"`
	Cases           []suiteCase `json:"cases"`
}

type suiteCase struct {
	Name    string `json:"name"`
	Request string `json:"request"` // the signed request as sent, lines separated by "\n"
	Body    string `json:"body"`
	Creq    string `json:"creq"` // AWS's canonical request
	Sts     string `json:"sts"`  // AWS's string to sign
}

func loadSuite(tb testing.TB) suiteFile {
	tb.Helper()
	raw, err := os.ReadFile("testdata/aws-sig-v4-test-suite.json")
	if err != nil {
		tb.Fatal(err)
	}
	var s suiteFile
	if err := json.Unmarshal(raw, &s); err != nil {
		tb.Fatal(err)
	}
	return s
}

// readSuiteRequest parses a suite request the way the server's HTTP stack would receive it.
func readSuiteRequest(tb testing.TB, c suiteCase) *http.Request {
	tb.Helper()
	wire := strings.ReplaceAll(c.Request, "\n", "\r\n")
	if c.Body != "" {
		wire += "\r\nContent-Length: " + strconv.Itoa(len(c.Body)) // unsigned, as in the suite
	}
	wire += "\r\n\r\n" + c.Body
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
	if err != nil {
		tb.Fatalf("read request: %v", err)
	}
	return r
}

// TestAWSSuite checks the canonical request, the string to sign and the signature of every case
// of AWS's SigV4 test suite that applies to a non-S3 service (the path-normalization group is left
// out: the SDKs sign the path as sent, without removing dot segments, and so must we).
func TestAWSSuite(t *testing.T) {
	t.Parallel()
	suite := loadSuite(t)
	now, ok := parseAmzDate(suite.Time)
	if !ok {
		t.Fatalf("bad suite time %q", suite.Time)
	}
	v := NewVerifier(func() time.Time { return now })
	for _, c := range suite.Cases {
		t.Run("case="+c.Name, func(t *testing.T) {
			t.Parallel()
			r := readSuiteRequest(t, c)
			body := []byte(c.Body)

			s, err := v.Parse(r, body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := string(s.sts); got != c.Sts {
				t.Errorf("string to sign:\n%s\nwant:\n%s", got, c.Sts)
			}

			a, perr := parseAuthorization(r.Header.Get("Authorization"))
			if perr != nil {
				t.Fatal(perr)
			}
			params, qerr := parseQuery(r.URL.RawQuery, nil)
			if qerr != nil {
				t.Fatal(qerr)
			}
			sum := sha256.Sum256(body)
			creq := appendCanonicalRequest(nil, r, params, false, a.signedHeaders, []byte(hex.EncodeToString(sum[:])))
			if string(creq) != c.Creq {
				t.Errorf("canonical request:\n%s\nwant:\n%s", creq, c.Creq)
			}

			if err := s.Verify(suite.SecretAccessKey); err != nil {
				t.Errorf("Verify: %v", err)
			}
			if err := s.Verify(suite.SecretAccessKey[1:]); err == nil {
				t.Error("Verify accepted the wrong secret")
			}
			if s.AccessKeyID != suite.AccessKeyID {
				t.Errorf("AccessKeyID = %q, want %q", s.AccessKeyID, suite.AccessKeyID)
			}
			wantToken := r.Header.Get("X-Amz-Security-Token")
			if s.SessionToken != wantToken {
				t.Errorf("SessionToken = %q, want %q", s.SessionToken, wantToken)
			}
		})
	}
}
