package sigv4_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/gatehouse-iam/gatehouse/internal/sigv4"
)

var (
	testCreds = aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	signTime  = time.Date(2024, 5, 17, 10, 30, 0, 0, time.UTC)
)

const listUsersBody = "Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fdivision_abc%2Fsubdivision_xyz%2F&MaxItems=100"

func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

func payloadHash(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// serverRequest builds the request as the server sees it (RequestURI, Host and all) for target.
func serverRequest(method, target, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	return r
}

// wantCode checks that err is a *sigv4.Error with code (and status), or nil when code is "".
func wantCode(t *testing.T, err error, code string, status int) *sigv4.Error {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return nil
	}
	var e *sigv4.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *sigv4.Error %s", err, code)
	}
	if e.Code != code || e.Status != status {
		t.Fatalf("error = %s %d %q, want %s %d", e.Code, e.Status, e.Message, code, status)
	}
	return e
}

// TestVerifySignHTTP signs requests with aws-sdk-go-v2's Signer.SignHTTP and verifies them.
func TestVerifySignHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		method  string
		target  string
		body    string
		region  string
		service string
		creds   aws.Credentials
		// prepare changes the request before signing; tamper after signing.
		prepare func(r *http.Request)
		tamper  func(r *http.Request) (body string)
		now     time.Time // zero: signTime
		secret  string    // empty: creds.SecretAccessKey
		code    string    // empty: must verify
		status  int
	}{
		{name: "case=POST form body", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam"},
		{name: "case=GET with query", method: "GET", target: "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15", region: "us-east-1", service: "sts"},
		{name: "case=GET query needing encoding", method: "GET", target: "https://iam.amazonaws.com/?Action=ListUsers&PathPrefix=%2Fa+b%2F&Marker=x%2By%3D%3D&Version=2010-05-08", region: "us-east-1", service: "iam"},
		{name: "case=GET repeated query keys", method: "GET", target: "http://localhost/?b=2&a=3&a=1&a=%2F", region: "us-east-1", service: "iam"},
		{name: "case=region eu-west-3", method: "POST", target: "https://sts.eu-west-3.amazonaws.com/", body: "Action=GetCallerIdentity&Version=2011-06-15", region: "eu-west-3", service: "sts"},
		{name: "case=region cn-north-1", method: "POST", target: "https://sts.cn-north-1.amazonaws.com.cn/", body: "Action=GetCallerIdentity&Version=2011-06-15", region: "cn-north-1", service: "sts"},
		{name: "case=region us-gov-west-1", method: "POST", target: "https://iam.us-gov.amazonaws.com/", body: listUsersBody, region: "us-gov-west-1", service: "iam"},
		{name: "case=custom region", method: "POST", target: "http://gatehouse.internal/", body: listUsersBody, region: "home-lab-1", service: "iam"},
		{name: "case=host with port", method: "POST", target: "http://127.0.0.1:8443/", body: listUsersBody, region: "us-east-1", service: "iam"},
		{name: "case=ipv6 host with port", method: "POST", target: "http://[::1]:9000/", body: listUsersBody, region: "us-east-1", service: "iam"},
		{name: "case=path with characters to encode", method: "GET", target: "http://localhost:8080/some%20dir/a+b/%C3%A9t%C3%A9?Action=ListUsers", region: "us-east-1", service: "iam"},
		{name: "case=session token", method: "POST", target: "https://sts.amazonaws.com/", body: "Action=GetCallerIdentity&Version=2011-06-15", region: "us-east-1", service: "sts",
			creds: aws.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "tempsecret", SessionToken: "FwoGZXIvYXdzEBYaDHsessiontoken+/="}},
		{name: "case=header with folded whitespace", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			prepare: func(r *http.Request) { r.Header.Set("X-Custom-Header", "  a   b \t  c   ") }},
		{name: "case=repeated header", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			prepare: func(r *http.Request) {
				r.Header.Add("X-Custom-Header", "one")
				r.Header.Add("X-Custom-Header", " two  three ")
			}},
		{name: "case=x-amz-content-sha256 with the body hash", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			prepare: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", payloadHash(listUsersBody)) }},
		{name: "case=unsigned headers added after signing", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			tamper: func(r *http.Request) string {
				r.Header.Set("User-Agent", "proxy/1.0")
				r.Header.Set("X-Forwarded-For", "203.0.113.7")
				r.Header.Set("X-Amzn-Trace-Id", "Root=1-0")
				return listUsersBody
			}},
		{name: "case=wrong secret", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz", code: sigv4.CodeSignatureDoesNotMatch, status: 403},
		{name: "case=tampered body", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			tamper: func(r *http.Request) string { return strings.Replace(listUsersBody, "MaxItems=100", "MaxItems=101", 1) },
			code:   sigv4.CodeSignatureDoesNotMatch, status: 403},
		{name: "case=tampered signed header", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			prepare: func(r *http.Request) { r.Header.Set("X-Custom-Header", "original") },
			tamper: func(r *http.Request) string {
				r.Header.Set("X-Custom-Header", "changed")
				return listUsersBody
			},
			code: sigv4.CodeSignatureDoesNotMatch, status: 403},
		{name: "case=tampered host", method: "POST", target: "http://127.0.0.1:8443/", body: listUsersBody, region: "us-east-1", service: "iam",
			tamper: func(r *http.Request) string {
				r.Host = "127.0.0.1:8444"
				return listUsersBody
			},
			code: sigv4.CodeSignatureDoesNotMatch, status: 403},
		{name: "case=tampered query", method: "GET", target: "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15", region: "us-east-1", service: "sts",
			tamper: func(r *http.Request) string {
				r.URL.RawQuery = "Action=GetSessionToken&Version=2011-06-15"
				r.RequestURI = "/?" + r.URL.RawQuery
				return ""
			},
			code: sigv4.CodeSignatureDoesNotMatch, status: 403},
		// IAM and STS hash the body themselves; only S3 takes UNSIGNED-PAYLOAD (aws-sdk-go v4.go,
		// opendal-reqsign#346: other services answer SignatureDoesNotMatch).
		{name: "case=UNSIGNED-PAYLOAD refused", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			prepare: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") },
			code:    sigv4.CodeSignatureDoesNotMatch, status: 403},
		{name: "case=skew 14m59s behind", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			now: signTime.Add(14*time.Minute + 59*time.Second)},
		{name: "case=skew exactly 15m behind", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			now: signTime.Add(15 * time.Minute)},
		{name: "case=skew 15m01s behind", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			now: signTime.Add(15*time.Minute + time.Second), code: sigv4.CodeSignatureDoesNotMatch, status: 403},
		{name: "case=skew 14m59s ahead", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			now: signTime.Add(-14*time.Minute - 59*time.Second)},
		{name: "case=skew 15m01s ahead", method: "POST", target: "https://iam.amazonaws.com/", body: listUsersBody, region: "us-east-1", service: "iam",
			now: signTime.Add(-15*time.Minute - time.Second), code: sigv4.CodeSignatureDoesNotMatch, status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			creds := tt.creds
			if creds.AccessKeyID == "" {
				creds = testCreds
			}
			r := serverRequest(tt.method, tt.target, tt.body)
			if tt.prepare != nil {
				tt.prepare(r)
			}
			hash := payloadHash(tt.body)
			if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" {
				hash = v
			}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hash, tt.service, tt.region, signTime); err != nil {
				t.Fatal(err)
			}
			body := tt.body
			if tt.tamper != nil {
				body = tt.tamper(r)
			}
			now := tt.now
			if now.IsZero() {
				now = signTime
			}
			secret := tt.secret
			if secret == "" {
				secret = creds.SecretAccessKey
			}

			s, err := sigv4.NewVerifier(clockAt(now)).Parse(r, []byte(body))
			if err == nil {
				err = s.Verify(secret)
			}
			wantCode(t, err, tt.code, tt.status)
			if tt.code != "" {
				return
			}
			if s.AccessKeyID != creds.AccessKeyID || s.Region != tt.region || s.Service != tt.service ||
				s.SessionToken != creds.SessionToken || !s.Time.Equal(signTime) || s.Presigned {
				t.Errorf("Signed = %+v", s)
			}
		})
	}
}

// TestSkewMessages pins AWS's wording. STS and IAM answer a header-signed request outside the
// 15-minute window with SignatureDoesNotMatch (403), e.g. from GetCallerIdentity (aws/aws-cli#6676)
// and AssumeRole (devsecops/bootcamp#101):
//
//	Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z (20220127T015928Z - 15 min.)
//
// and, for a clock ahead, "Signature not yet current: ... is still later than ... (... + 15 min.)".
func TestSkewMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{name: "case=expired", now: signTime.Add(31 * time.Minute),
			want: "Signature expired: 20240517T103000Z is now earlier than 20240517T104600Z (20240517T110100Z - 15 min.)"},
		{name: "case=not yet current", now: signTime.Add(-20 * time.Minute),
			want: "Signature not yet current: 20240517T103000Z is still later than 20240517T102500Z (20240517T101000Z + 15 min.)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := serverRequest("POST", "https://sts.amazonaws.com/", "Action=GetCallerIdentity&Version=2011-06-15")
			if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, r, payloadHash("Action=GetCallerIdentity&Version=2011-06-15"), "sts", "us-east-1", signTime); err != nil {
				t.Fatal(err)
			}
			_, err := sigv4.NewVerifier(clockAt(tt.now)).Parse(r, []byte("Action=GetCallerIdentity&Version=2011-06-15"))
			if e := wantCode(t, err, sigv4.CodeSignatureDoesNotMatch, 403); e.Message != tt.want {
				t.Errorf("message = %q, want %q", e.Message, tt.want)
			}
		})
	}
}

// presign returns the server-side request for a URL presigned with Signer.PresignHTTP.
func presign(t testing.TB, creds aws.Credentials, target, expires string, at time.Time) *http.Request {
	t.Helper()
	r := httptest.NewRequest("GET", target, nil)
	if expires != "" {
		q := r.URL.Query()
		q.Set("X-Amz-Expires", expires)
		r.URL.RawQuery = q.Encode()
	}
	signed, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, payloadHash(""), "sts", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	out := httptest.NewRequest("GET", signed, nil)
	for k, v := range hdr {
		if k != "Host" {
			out.Header[k] = v
		}
	}
	return out
}

// TestVerifyPresignHTTP verifies URLs presigned with Signer.PresignHTTP.
//
// What AWS does: the SDK team states that X-Amz-Expires is honoured by S3 only and that the
// other services hold a presigned request valid for about 15 minutes (aws/aws-sdk-go#2167, PR
// #2224); STS then answers like a header-signed request, SignatureDoesNotMatch "Signature
// expired: ...". Gatehouse keeps that answer but honours X-Amz-Expires (1..604800 s, S3's bounds
// and messages), as SigV4 defines it, and without the parameter applies AWS's 15 minutes.
func TestVerifyPresignHTTP(t *testing.T) {
	t.Parallel()
	const target = "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
	tokenCreds := aws.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "tempsecret", SessionToken: "FwoGZXIvYXdzEBYaDH+/=token"}
	tests := []struct {
		name    string
		creds   aws.Credentials
		expires string
		now     time.Time
		tamper  func(r *http.Request)
		code    string
		status  int
		message string
	}{
		{name: "case=valid", expires: "300", now: signTime.Add(time.Minute)},
		{name: "case=at expiry", expires: "300", now: signTime.Add(300 * time.Second)},
		{name: "case=one second after expiry", expires: "300", now: signTime.Add(301 * time.Second),
			code: sigv4.CodeSignatureDoesNotMatch, status: 403,
			message: "Signature expired: 20240517T103000Z is now earlier than 20240517T103001Z (20240517T103501Z - 5 min.)"},
		{name: "case=expiry not whole minutes", expires: "90", now: signTime.Add(91 * time.Second),
			code: sigv4.CodeSignatureDoesNotMatch, status: 403,
			message: "Signature expired: 20240517T103000Z is now earlier than 20240517T103001Z (20240517T103131Z - 90 sec.)"},
		{name: "case=one week", expires: "604800", now: signTime.Add(7*24*time.Hour - time.Second)},
		{name: "case=no X-Amz-Expires within 15 minutes", now: signTime.Add(14 * time.Minute)},
		{name: "case=no X-Amz-Expires after 15 minutes", now: signTime.Add(16 * time.Minute), code: sigv4.CodeSignatureDoesNotMatch, status: 403},
		{name: "case=signed in the future beyond skew", expires: "300", now: signTime.Add(-16 * time.Minute),
			code: sigv4.CodeSignatureDoesNotMatch, status: 403,
			message: "Signature not yet current: 20240517T103000Z is still later than 20240517T102900Z (20240517T101400Z + 15 min.)"},
		{name: "case=signed in the future within skew", expires: "300", now: signTime.Add(-14 * time.Minute)},
		{name: "case=session token", creds: tokenCreds, expires: "900", now: signTime},
		{name: "case=X-Amz-Expires zero", expires: "0", now: signTime, code: sigv4.CodeIncompleteSignature, status: 400,
			message: "X-Amz-Expires must be non-negative and at least 1 second"},
		{name: "case=X-Amz-Expires over a week", expires: "604801", now: signTime, code: sigv4.CodeIncompleteSignature, status: 400,
			message: "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"},
		{name: "case=X-Amz-Expires not a number", expires: "soon", now: signTime, code: sigv4.CodeIncompleteSignature, status: 400,
			message: "X-Amz-Expires should be a number"},
		{name: "case=tampered action", expires: "300", now: signTime,
			tamper: func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "GetCallerIdentity", "GetSessionToken", 1)
				r.RequestURI = "/?" + r.URL.RawQuery
			},
			code: sigv4.CodeSignatureDoesNotMatch, status: 403},
		{name: "case=extended expiry", expires: "300", now: signTime.Add(10 * time.Minute),
			tamper: func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=300", "X-Amz-Expires=3600", 1)
				r.RequestURI = "/?" + r.URL.RawQuery
			},
			code: sigv4.CodeSignatureDoesNotMatch, status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			creds := tt.creds
			if creds.AccessKeyID == "" {
				creds = testCreds
			}
			r := presign(t, creds, target, tt.expires, signTime)
			if tt.tamper != nil {
				tt.tamper(r)
			}
			s, err := sigv4.NewVerifier(clockAt(tt.now)).Parse(r, nil)
			if err == nil {
				err = s.Verify(creds.SecretAccessKey)
			}
			e := wantCode(t, err, tt.code, tt.status)
			if e != nil {
				if tt.message != "" && e.Message != tt.message {
					t.Errorf("message = %q, want %q", e.Message, tt.message)
				}
				return
			}
			wantExpires := 15 * time.Minute
			if tt.expires != "" {
				n, _ := strconv.Atoi(tt.expires)
				wantExpires = time.Duration(n) * time.Second
			}
			if !s.Presigned || s.Expires != wantExpires || s.AccessKeyID != creds.AccessKeyID ||
				s.SessionToken != creds.SessionToken || s.Service != "sts" || s.Region != "us-east-1" {
				t.Errorf("Signed = %+v", s)
			}
		})
	}
}

// signWithDateHeader signs r the way a client without X-Amz-Date does: the time comes from the
// Date header. The SDKs always send X-Amz-Date, so this is a small independent signer of its own
// (crypto/hmac, no code shared with the package) for a request with no query string.
func signWithDateHeader(r *http.Request, body, secret, akid, region, service string, at time.Time) {
	r.Header.Set("Date", at.Format(http.TimeFormat))
	creq := strings.Join([]string{
		r.Method, "/", "",
		"content-type:" + r.Header.Get("Content-Type"),
		"date:" + r.Header.Get("Date"),
		"host:" + r.Host,
		"",
		"content-type;date;host",
		payloadHash(body),
	}, "\n")
	sum := sha256.Sum256([]byte(creq))
	scope := at.Format("20060102") + "/" + region + "/" + service + "/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + at.Format("20060102T150405Z") + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	k := hmacSum([]byte("AWS4"+secret), at.Format("20060102"))
	k = hmacSum(k, region)
	k = hmacSum(k, service)
	k = hmacSum(k, "aws4_request")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+akid+"/"+scope+
		", SignedHeaders=content-type;date;host, Signature="+hex.EncodeToString(hmacSum(k, sts)))
}

func TestVerifyDateHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		now  time.Time
		code string
	}{
		{name: "case=within skew", now: signTime.Add(10 * time.Minute)},
		{name: "case=outside skew", now: signTime.Add(16 * time.Minute), code: sigv4.CodeSignatureDoesNotMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := serverRequest("POST", "http://127.0.0.1:9000/", listUsersBody)
			signWithDateHeader(r, listUsersBody, testCreds.SecretAccessKey, testCreds.AccessKeyID, "us-west-2", "iam", signTime)
			s, err := sigv4.NewVerifier(clockAt(tt.now)).Parse(r, []byte(listUsersBody))
			if err == nil {
				err = s.Verify(testCreds.SecretAccessKey)
			}
			if tt.code != "" {
				wantCode(t, err, tt.code, 403)
				return
			}
			wantCode(t, err, "", 0)
			if !s.Time.Equal(signTime) {
				t.Errorf("Time = %v, want %v", s.Time, signTime)
			}
		})
	}
}

// TestVerifyReusesCachedKey verifies many requests with one Verifier: the cached key must give
// the same answers as a fresh derivation, for the right and the wrong secret alike.
func TestVerifyReusesCachedKey(t *testing.T) {
	t.Parallel()
	v := sigv4.NewVerifier(clockAt(signTime))
	for i := range 5 {
		body := listUsersBody + "&Marker=" + strconv.Itoa(i)
		r := serverRequest("POST", "https://iam.amazonaws.com/", body)
		if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, r, payloadHash(body), "iam", "us-east-1", signTime); err != nil {
			t.Fatal(err)
		}
		s, err := v.Parse(r, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Verify(testCreds.SecretAccessKey + "x"); err == nil {
			t.Fatalf("request %d: wrong secret accepted", i)
		}
		if err := s.Verify(testCreds.SecretAccessKey); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
}

func TestVerifyZeroSigned(t *testing.T) {
	t.Parallel()
	var s *sigv4.Signed
	wantCode(t, s.Verify("secret"), sigv4.CodeSignatureDoesNotMatch, 403)
	wantCode(t, (&sigv4.Signed{}).Verify("secret"), sigv4.CodeSignatureDoesNotMatch, 403)
}

func TestErrInvalidClientTokenID(t *testing.T) {
	t.Parallel()
	e := sigv4.ErrInvalidClientTokenID()
	if e.Code != "InvalidClientTokenId" || e.Status != 403 || e.Message != "The security token included in the request is invalid." {
		t.Errorf("ErrInvalidClientTokenID() = %+v", e)
	}
	if e.Error() != "InvalidClientTokenId: The security token included in the request is invalid." {
		t.Errorf("Error() = %q", e.Error())
	}
}

func hmacSum(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func signRequest(t testing.TB, r *http.Request, body, service, region string, at time.Time) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, r, payloadHash(body), service, region, at); err != nil {
		t.Fatal(err)
	}
}
