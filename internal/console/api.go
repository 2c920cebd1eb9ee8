package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/session"
)

// apiEndpoint is the host the console's SDK clients address; the transport hands their
// requests to the API handler in memory, so it is never resolved.
const apiEndpoint = "http://gatehouse.console"

// handlerTransport serves an SDK client's requests with the API handler itself, with the
// browser's address as the source (aws:SourceIp), so the console's calls are authenticated,
// authorized and logged as any client's.
type handlerTransport struct{ api http.Handler }

type sourceKey struct{}

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// The request is as a server would receive it: Host and RequestURI set as on the wire.
	req = req.Clone(req.Context())
	if req.Host == "" {
		req.Host = req.URL.Host
	}
	req.RequestURI = req.URL.RequestURI()
	if addr, ok := req.Context().Value(sourceKey{}).(string); ok {
		req.RemoteAddr = addr
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	t.api.ServeHTTP(rec, req)
	return &http.Response{Status: strconv.Itoa(rec.status) + " " + http.StatusText(rec.status), StatusCode: rec.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.header, Body: io.NopCloser(&rec.body), ContentLength: int64(rec.body.Len()), Request: req}, nil
}

// recorder is the http.ResponseWriter of an in-memory call (net/http/httptest's would register
// a command-line flag in the binary).
type recorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wroteHeader = true
	return r.body.Write(p)
}

// iamClient is an IAM client that signs as the console acts: the role session after
// "Switch role", the signed-in identity otherwise.
func (c *Console) iamClient(cs *consoleSession) *iam.Client {
	if role := c.sessions.role(cs, c.opts.Now()); role != nil {
		return iam.NewFromConfig(c.clientConfig(role.Creds))
	}
	return iam.NewFromConfig(c.clientConfig(cs.Creds))
}

func (c *Console) clientConfig(cr session.Credentials) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken),
		BaseEndpoint:     aws.String(apiEndpoint),
		HTTPClient:       &http.Client{Transport: handlerTransport{c.opts.API}},
		RetryMaxAttempts: 1, // a refused call is shown, not retried
	}
}

// withSource returns ctx carrying the browser's address for the API's aws:SourceIp.
func withSource(ctx context.Context, r *http.Request) context.Context {
	return context.WithValue(ctx, sourceKey{}, r.RemoteAddr)
}

// apiMessage is what the page shows for a failed call: AWS's code and message.
func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	if qe := awsquery.AsError(err); qe != nil { // from a Go call of the IAM service
		return qe.Code + ": " + qe.Message
	}
	return "The request failed: " + err.Error()
}
